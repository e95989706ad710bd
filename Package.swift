// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "Relax",
    products: [
        .library(name: "Relax", targets: ["Relax"]),
        .executable(name: "relax", targets: ["relax-cli"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    ],
    targets: [
        // FFTW3 (double precision) with its threads library; Debian's fftw3.pc does not
        // name fftw3_threads, so the module map links it explicitly (DESIGN.md §7).
        .systemLibrary(
            name: "CFFTW",
            pkgConfig: "fftw3",
            providers: [.apt(["libfftw3-dev"])]
        ),
        // OpenBLAS (CBLAS) and LAPACKE.
        .systemLibrary(
            name: "CLAPACK",
            pkgConfig: "openblas",
            providers: [.apt(["libopenblas-dev", "liblapacke-dev"])]
        ),
        .target(
            name: "Relax",
            dependencies: ["CFFTW", "CLAPACK"]
        ),
        // The subcommands live in a library so tests can parse and run them in-process;
        // the executable only starts them.
        .target(
            name: "RelaxCLI",
            dependencies: [
                "Relax",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .executableTarget(
            name: "relax-cli",
            dependencies: ["RelaxCLI"]
        ),
        .testTarget(
            name: "RelaxTests",
            dependencies: ["Relax", "RelaxCLI"]
        ),
    ]
)
