package com.alpyperl.benchmarks;

import com.alpyperl.connector.ConnectorHost;
import com.alpyperl.connector.PlainJavaModel;
import com.alpyperl.connector.RLAction;
import com.alpyperl.connector.RLConnector;
import com.alpyperl.connector.Space;
import com.alpyperl.launcher.runtime.ModelFolder;
import com.alpyperl.launcher.ModelSessionGroup;
import java.io.BufferedReader;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.lang.management.ManagementFactory;
import java.lang.reflect.Constructor;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.DoubleBuffer;
import java.nio.LongBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.Locale;
import java.util.Properties;

/**
 * Steps a plain Java model (CartPole) from Java, without Python, in two ways:
 * <ul>
 *   <li>{@code pure}: this class answers {@code requestAction()} itself, in the model's own
 *       thread, with no hand-off: the limit of what any host can do;</li>
 *   <li>{@code session}: a Java loop drives the launcher's facade, a {@link ModelSessionGroup} of
 *       one instance, exactly as {@code AnyLogicEnv} does (write action, {@code stepAll()}, read
 *       observation; the model on the thread {@code model_threads="auto"} chooses), so the
 *       difference to {@code pure} is the cost of the hand-off alone, without JPype.</li>
 * </ul>
 * Usage: {@code java -cp ... JavaLoopBench <model folder>}, then commands on standard input, one
 * a line: {@code pure <seconds>}, {@code session <seconds>} or {@code quit}. Each measurement
 * prints one JSON line. The policy is the one every benchmark uses: push right when
 * {@code theta + thetaDot > 0}, else left.
 */
public final class JavaLoopBench {
    private static final long FIRST_SEED = 12345L;
    private static final int MIN_EPISODES = 3;

    private final Constructor<?> modelConstructor;
    private final Space observationSpace;
    private final Space actionSpace;
    private final ModelSessionGroup session;
    private final DoubleBuffer buffer;
    private final LongBuffer commands;
    private long nextSeed = FIRST_SEED;

    private JavaLoopBench(File modelFolder) throws Exception {
        Properties descriptor = new Properties();
        try (InputStream in = Files.newInputStream(new File(modelFolder, ModelFolder.DESCRIPTOR).toPath())) {
            descriptor.load(in);
        }
        // The model class from the folder's model.jar; connector classes come from the classpath.
        URLClassLoader loader = new URLClassLoader(new URL[] {new File(modelFolder, "model.jar").toURI().toURL()},
                JavaLoopBench.class.getClassLoader());
        Class<?> modelClass = Class.forName(descriptor.getProperty("model.class").trim(), true, loader);
        modelConstructor = modelClass.getConstructor();
        PlainJavaModel probe = (PlainJavaModel) modelConstructor.newInstance(); // no host bound yet: a free-standing instance
        observationSpace = probe.getObservationSpace();
        actionSpace = probe.getActionSpace();

        ByteBuffer commandBytes = ByteBuffer.allocateDirect(2 * Long.BYTES).order(ByteOrder.nativeOrder());
        commands = commandBytes.asLongBuffer();
        commands.put(0, ModelSessionGroup.STEP);
        // -Dalpyperl.benchThreads=platform: the model on a thread of its own (the spin sweep)
        String threads = System.getProperty("alpyperl.benchThreads", "auto");
        session = ModelSessionGroup.open(ModelFolder.open(modelFolder.getPath()), 1, threads, 0, commandBytes);
        session.describeModel(10.0);
        int size = actionSpace.flatSize() + observationSpace.flatSize() + 1;
        ByteBuffer shared = ByteBuffer.allocateDirect(size * Double.BYTES).order(ByteOrder.nativeOrder());
        session.configure(observationSpace.toJson(), actionSpace.toJson(), 10.0, shared);
        buffer = shared.asDoubleBuffer();
    }

    /** Runs whole episodes for about {@code seconds}, answering requestAction() in the model's thread. */
    private Result runPure(double seconds) throws Exception {
        DirectHost host = new DirectHost(observationSpace, actionSpace);
        Result result = new Result("pure");
        long cpuStart = processCpuNanos();
        long limit = (long) (seconds * 1e9);
        long start = System.nanoTime();
        long elapsed;
        do {
            host.seed = nextSeed++;
            PlainJavaModel model = (PlainJavaModel) modelConstructor.newInstance();
            model.run();
            host.endOfEpisode();
            result.episodes++;
            elapsed = System.nanoTime() - start;
        } while (elapsed < limit || result.episodes < MIN_EPISODES);
        result.steps = host.steps;
        result.checksum = host.rewardSum;
        result.nanos = elapsed;
        result.cpuNanos = cpuStart < 0 ? -1 : processCpuNanos() - cpuStart;
        return result;
    }

    /** Runs whole episodes for about {@code seconds} through the facade, as Python would. */
    private Result runSession(double seconds) {
        int actionSize = actionSpace.flatSize();
        Result result = new Result("session");
        long cpuStart = processCpuNanos();
        long limit = (long) (seconds * 1e9);
        long start = System.nanoTime();
        long elapsed;
        double rewardSum = 0;
        do {
            commands.put(0, nextSeed++);
            boolean running = (session.stepAll() & ModelSessionGroup.EPISODES_ENDED) == 0;
            while (running) {
                double theta = buffer.get(actionSize + 2);
                double thetaDot = buffer.get(actionSize + 3);
                buffer.put(0, theta + thetaDot > 0 ? 1 : 0);
                running = (session.stepAll() & ModelSessionGroup.EPISODES_ENDED) == 0;
                rewardSum += buffer.get(buffer.capacity() - 1);
                result.steps++;
            }
            result.episodes++;
            elapsed = System.nanoTime() - start;
        } while (elapsed < limit || result.episodes < MIN_EPISODES);
        result.checksum = rewardSum;
        result.nanos = elapsed;
        result.cpuNanos = cpuStart < 0 ? -1 : processCpuNanos() - cpuStart;
        return result;
    }

    /** CPU time used by this whole JVM so far (all threads), or -1 if the JVM cannot tell. */
    private static long processCpuNanos() {
        java.lang.management.OperatingSystemMXBean os = ManagementFactory.getOperatingSystemMXBean();
        if (os instanceof com.sun.management.OperatingSystemMXBean) {
            return ((com.sun.management.OperatingSystemMXBean) os).getProcessCpuTime();
        }
        return -1;
    }

    /** A host in the model's own thread: observes, chooses and applies the action on the spot. */
    private static final class DirectHost extends ConnectorHost {
        private final Space observationSpace;
        private final Space actionSpace;
        private final double[] action = new double[1];
        private RLConnector connector;
        long seed;
        long steps;
        double rewardSum;

        DirectHost(Space observationSpace, Space actionSpace) {
            this.observationSpace = observationSpace;
            this.actionSpace = actionSpace;
            bindToCurrentThread();
        }

        @Override
        protected void attach(RLConnector created) {
            connector = created;
        }

        @Override
        protected long episodeSeed() {
            return seed;
        }

        @Override
        protected void decide(RLConnector asking) {
            // The same calls into the model as the launcher makes at a decision point.
            double[] observation = observe(asking, observationSpace);
            rewardSum += reward(asking);
            if (!finished(asking)) {
                truncated(asking);
            }
            action[0] = observation[2] + observation[3] > 0 ? 1 : 0;
            apply(asking, new RLAction(actionSpace, action));
            steps++;
        }

        /** What the launcher reads at the end of a run: the last observation and reward. */
        void endOfEpisode() {
            observe(connector, observationSpace);
            rewardSum += reward(connector);
            finished(connector);
            connector = null;
        }
    }

    /** One measurement. */
    private static final class Result {
        final String mode;
        long steps;
        long episodes;
        long nanos;
        long cpuNanos;
        double checksum;

        Result(String mode) {
            this.mode = mode;
        }

        String toJson() {
            double seconds = nanos / 1e9;
            return String.format(Locale.ROOT,
                    "{\"mode\":\"%s\",\"steps\":%d,\"episodes\":%d,\"seconds\":%.6f,\"steps_per_second\":%.1f,"
                            + "\"ns_per_step\":%.2f,\"cpu_seconds\":%.6f,\"reward_sum\":%.1f}",
                    mode, steps, episodes, seconds, steps / seconds, nanos / (double) steps,
                    cpuNanos < 0 ? -1.0 : cpuNanos / 1e9, checksum);
        }
    }

    /** Reads commands from standard input and answers each with one JSON line. */
    public static void main(String[] args) throws Exception {
        if (args.length != 1) {
            System.err.println("usage: JavaLoopBench <model folder>   (then commands on stdin: pure|session <seconds>, quit)");
            System.exit(2);
        }
        JavaLoopBench bench = new JavaLoopBench(new File(args[0]));
        System.out.println("{\"ready\":true}");
        System.out.flush();
        BufferedReader commands = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        for (String line = commands.readLine(); line != null; line = commands.readLine()) {
            String[] words = line.trim().split("\\s+");
            if (words[0].equals("quit")) {
                break;
            }
            double seconds = words.length > 1 ? Double.parseDouble(words[1]) : 1.0;
            Result result;
            switch (words[0]) {
                case "pure":
                    result = bench.runPure(seconds);
                    break;
                case "session":
                    result = bench.runSession(seconds);
                    break;
                default:
                    throw new IOException("unknown command " + line);
            }
            System.out.println(result.toJson());
            System.out.flush();
        }
        bench.session.close();
    }
}
