// swift-tools-version:6.0
// An application of its own that uses bus's Swift client: it depends on the bus package by
// path (from elsewhere: `.package(url: "…/bus.git", from: "0.3.0")`) and on its BusClient
// product only.
import PackageDescription

let package = Package(
    name: "swift-publisher",
    platforms: [.macOS(.v15)],
    dependencies: [.package(name: "bus", path: "../..")],
    targets: [
        .executableTarget(name: "swift-publisher", dependencies: [.product(name: "BusClient", package: "bus")]),
    ],
    swiftLanguageModes: [.v6]
)
