package com.alpyperl.policy;

/**
 * An immutable execution plan for one batch size: the kernels in order, the constant slots, and
 * the sizes of the run-time slots that each workspace allocates. Many threads may execute the
 * same plan, each with its own workspace from {@link #newWorkspace()}.
 */
final class Plan {

    final int batch;
    final Kernels.Kernel[] kernels;
    private final Object[] template;
    private final int[] runtimeSlots;
    private final Tensor.DType[] runtimeTypes;
    private final int[] runtimeSizes;
    final int[] inputSlots;
    final int[] inputSizes;
    final int[] outputSlots;
    final int[][] outputShapes;
    final Tensor.DType[] outputTypes;

    Plan(int batch, Kernels.Kernel[] kernels, Object[] template, int[] runtimeSlots, Tensor.DType[] runtimeTypes,
            int[] runtimeSizes, int[] inputSlots, int[] inputSizes, int[] outputSlots, int[][] outputShapes,
            Tensor.DType[] outputTypes) {
        this.batch = batch;
        this.kernels = kernels;
        this.template = template;
        this.runtimeSlots = runtimeSlots;
        this.runtimeTypes = runtimeTypes;
        this.runtimeSizes = runtimeSizes;
        this.inputSlots = inputSlots;
        this.inputSizes = inputSizes;
        this.outputSlots = outputSlots;
        this.outputShapes = outputShapes;
        this.outputTypes = outputTypes;
    }

    /** A fresh workspace: the constants shared, every run-time slot newly allocated. */
    Object[] newWorkspace() {
        Object[] ws = template.clone();
        for (int i = 0; i < runtimeSlots.length; i++) {
            ws[runtimeSlots[i]] = Tensor.newArray(runtimeTypes[i], runtimeSizes[i]);
        }
        return ws;
    }

    /** Runs every kernel on a workspace whose input slots have been filled. */
    void execute(Object[] ws) {
        for (Kernels.Kernel k : kernels) {
            k.run(ws);
        }
    }

    int outputSize(int i) {
        return Shapes.size(outputShapes[i]);
    }

    /** Copies output {@code i} of an executed workspace into a new float array. */
    float[] output(Object[] ws, int i) {
        Object data = ws[outputSlots[i]];
        int n = outputSize(i);
        float[] out = new float[n];
        if (data instanceof float[]) {
            System.arraycopy(data, 0, out, 0, n);
        } else {
            long[] l = (long[]) data;
            for (int j = 0; j < n; j++) {
                out[j] = l[j];
                if ((long) out[j] != l[j]) {
                    throw new ArithmeticException("integer output value " + l[j] + " cannot be represented as a float");
                }
            }
        }
        return out;
    }
}
