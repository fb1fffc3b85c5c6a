// The header carries everything as static inline functions; SwiftPM needs one source file.
#include "CLinux.h"
