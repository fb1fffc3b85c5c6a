/// The release both executables report (`broker-server --version`, `bus-cli --version`).
/// Kept in BusProtocol, the pure module both already link, so there is exactly one place to
/// bump it; CHANGELOG.md's newest heading names the same version.
public enum BusVersion {
    public static let string = "0.2.0"
}
