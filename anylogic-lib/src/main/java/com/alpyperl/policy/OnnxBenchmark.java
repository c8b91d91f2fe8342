package com.alpyperl.policy;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.file.Paths;
import java.util.Arrays;
import java.util.Random;

/**
 * Measures the evaluator's latency per call at batch size 1:
 * {@code java -cp anylogic-lib.jar com.alpyperl.policy.OnnxBenchmark policy.onnx [calls]}.
 */
public final class OnnxBenchmark {

    private static volatile float sink;

    private OnnxBenchmark() {
    }

    /**
     * Calls {@code model.run(input)} {@code warmupCalls} times (to let the JIT compile it), then
     * measures {@code rounds} rounds of {@code callsPerRound} calls each.
     *
     * @param threadCpuTime measure the calling thread's CPU time instead of elapsed time (robust
     *     when other processes compete for the cores: time spent waiting for a core is not counted)
     * @return the mean nanoseconds per call of each round
     */
    public static double[] nanosPerCall(OnnxModel model, float[] input, int warmupCalls, int rounds, int callsPerRound,
            boolean threadCpuTime) {
        ThreadMXBean threads = ManagementFactory.getThreadMXBean();
        if (threadCpuTime && !threads.isCurrentThreadCpuTimeSupported()) {
            throw new UnsupportedOperationException("this JVM cannot measure thread CPU time");
        }
        float acc = 0;
        for (int i = 0; i < warmupCalls; i++) {
            acc += model.run(input)[0];
        }
        double[] result = new double[rounds];
        for (int r = 0; r < rounds; r++) {
            long start = threadCpuTime ? threads.getCurrentThreadCpuTime() : System.nanoTime();
            for (int i = 0; i < callsPerRound; i++) {
                acc += model.run(input)[0];
            }
            long end = threadCpuTime ? threads.getCurrentThreadCpuTime() : System.nanoTime();
            result[r] = (end - start) / (double) callsPerRound;
        }
        sink = acc;
        return result;
    }

    /** Prints the median latency per call of a single-input model, in microseconds. */
    public static void main(String[] args) throws Exception {
        if (args.length < 1) {
            System.err.println("usage: OnnxBenchmark policy.onnx [calls per round]");
            System.exit(2);
        }
        OnnxModel model = OnnxModel.load(Paths.get(args[0]));
        int calls = args.length > 1 ? Integer.parseInt(args[1]) : 20000;
        int[] shape = model.inputShape(model.inputNames().get(0));
        int n = 1;
        for (int d : shape) {
            n *= Math.max(d, 1);
        }
        float[] input = new float[n];
        Random random = new Random(1);
        for (int i = 0; i < n; i++) {
            input[i] = (float) random.nextGaussian();
        }
        double[] wall = nanosPerCall(model, input, 20000, 7, calls, false);
        double[] cpu = nanosPerCall(model, input, 0, 7, calls, true);
        Arrays.sort(wall);
        Arrays.sort(cpu);
        System.out.printf("%s: %.2f us per call elapsed, %.2f us thread CPU time (medians of %d rounds of %d calls)%n", model,
                wall[wall.length / 2] / 1000, cpu[cpu.length / 2] / 1000, wall.length, calls);
    }
}
