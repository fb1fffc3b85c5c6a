/// The browser console served at `GET /`.
enum ConsolePage {
    static let html = "<!doctype html><title>bus</title>"
}
