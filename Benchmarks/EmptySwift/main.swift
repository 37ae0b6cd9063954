// Benchmark floor: a Swift executable that does nothing (the runtime's own start-up).
