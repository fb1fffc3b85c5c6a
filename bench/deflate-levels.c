// Measures what permessage-deflate costs the server per message, as Deflater does it
// (deflateReset, one deflate with Z_SYNC_FLUSH, raw 15-bit window), for each zlib level and
// memLevel over a corpus of JSON lines: ns per message and compressed/plain bytes. Used to
// choose Deflater's defaults (bench/README.md, "permessage-deflate").
//
//   cc -O2 -o /tmp/deflate-levels bench/deflate-levels.c -lz && /tmp/deflate-levels bench/payloads/*.jsonl
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zlib.h>

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1e9 + t.tv_nsec;
}

int main(int argc, char **argv) {
    char *lines[4096];
    size_t sizes[4096], count = 0, plain = 0;
    for (int f = 1; f < argc; f++) {
        FILE *file = fopen(argv[f], "r");
        if (!file) { perror(argv[f]); return 1; }
        char *line = NULL;
        size_t cap = 0;
        ssize_t n;
        while ((n = getline(&line, &cap, file)) > 1 && count < 4096) {
            lines[count] = malloc(n);
            memcpy(lines[count], line, n - 1);
            sizes[count] = n - 1;
            plain += n - 1;
            count++;
        }
        fclose(file);
    }
    static unsigned char out[1 << 20];
    // Every configuration gets a turn in each round, so a noisy machine slows them alike.
    enum { configs = 20, rounds = 30 };
    int levels[] = {1, 3, 6, 9}, memLevels[] = {1, 4, 6, 8, 9};
    z_stream streams[configs];
    double nanos[configs] = {0};
    size_t compressed[configs] = {0};
    for (int c = 0; c < configs; c++) {
        memset(&streams[c], 0, sizeof streams[c]);
        deflateInit2(&streams[c], levels[c / 5], Z_DEFLATED, -15, memLevels[c % 5], Z_DEFAULT_STRATEGY);
    }
    for (int r = 0; r < rounds; r++) {
        for (int c = 0; c < configs; c++) {
            z_stream *s = &streams[c];
            double start = now();
            for (size_t i = 0; i < count; i++) {
                deflateReset(s);
                s->next_in = (unsigned char *)lines[i];
                s->avail_in = sizes[i];
                s->next_out = out;
                s->avail_out = sizeof out;
                deflate(s, Z_SYNC_FLUSH);
                if (r == 0) compressed[c] += sizeof out - s->avail_out - 4;
            }
            nanos[c] += now() - start;
        }
    }
    printf("%zu messages, mean %.0f B\nlevel memLevel  ns/message  compressed/plain\n", count, (double)plain / count);
    for (int c = 0; c < configs; c++) {
        printf("%5d %8d %11.0f  %.3f\n", levels[c / 5], memLevels[c % 5], nanos[c] / (rounds * count), (double)compressed[c] / plain);
        deflateEnd(&streams[c]);
    }
    return 0;
}
