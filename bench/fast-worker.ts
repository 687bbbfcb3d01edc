// The two-thread fast step's worker, bundled for the benchmark as dist/bench-fast-worker.js.
import '../src/trainer/fast/worker';
