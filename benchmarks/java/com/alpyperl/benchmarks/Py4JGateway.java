package com.alpyperl.benchmarks;

import com.alpyperl.connector.Space;
import com.alpyperl.connector.PlainJavaModel;
import com.alpyperl.launcher.runtime.ModelFolder;
import com.alpyperl.launcher.ModelSession;
import java.io.File;
import java.io.InputStream;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.DoubleBuffer;
import java.nio.file.Files;
import java.util.Properties;
import py4j.GatewayServer;

/**
 * The way ALPypeRL 1.x reached a model: a separate JVM that Python calls over Py4J's socket
 * protocol, one round trip per call. The entry point wraps a {@link ModelSession} with a buffer
 * of its own; Python calls {@link #step(int)} and then reads observation, reward and done with
 * three more calls. Usage: {@code java -cp ... Py4JGateway <model folder>}; prints
 * {@code PORT <n>} once the gateway listens on 127.0.0.1:n, and exits when standard input closes.
 */
public final class Py4JGateway {
    private final ModelSession session;
    private final DoubleBuffer buffer;
    private final int actionSize;
    private final int observationSize;
    private int status = ModelSession.TRUNCATED;

    private Py4JGateway(File modelFolder) throws Exception {
        Properties descriptor = new Properties();
        try (InputStream in = Files.newInputStream(new File(modelFolder, ModelFolder.DESCRIPTOR).toPath())) {
            descriptor.load(in);
        }
        URLClassLoader loader = new URLClassLoader(new URL[] {new File(modelFolder, "model.jar").toURI().toURL()},
                Py4JGateway.class.getClassLoader());
        Class<?> modelClass = Class.forName(descriptor.getProperty("model.class").trim(), true, loader);
        PlainJavaModel probe = (PlainJavaModel) modelClass.getConstructor().newInstance();
        Space observation = probe.getObservationSpace();
        Space action = probe.getActionSpace();
        actionSize = action.flatSize();
        observationSize = observation.flatSize();

        session = new ModelSession(ModelFolder.open(modelFolder.getPath()));
        session.describeModel(10.0);
        ByteBuffer shared = ByteBuffer.allocateDirect((actionSize + observationSize + 1) * Double.BYTES)
                .order(ByteOrder.nativeOrder());
        session.configure(observation.toJson(), action.toJson(), 10.0, shared);
        buffer = shared.asDoubleBuffer();
    }

    /** Starts a new episode with this seed. */
    public void reset(long seed) {
        status = session.reset(seed);
    }

    /** Applies the action and runs the model to its next decision. */
    public void step(int action) {
        buffer.put(0, action);
        status = session.step();
    }

    /**
     * The observation as little-endian float64 bytes: Py4J passes a byte[] by value in one
     * round trip (a double[] would come back as a remote array, one round trip per element).
     */
    public byte[] getObservation() {
        ByteBuffer bytes = ByteBuffer.allocate(observationSize * Double.BYTES).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < observationSize; i++) {
            bytes.putDouble(buffer.get(actionSize + i));
        }
        return bytes.array();
    }

    /** The reward of the last step. */
    public double getReward() {
        return buffer.get(actionSize + observationSize);
    }

    /** Whether the episode has ended (terminated or truncated). */
    public boolean isDone() {
        return status != ModelSession.RUNNING;
    }

    /** Serves the gateway until standard input closes. */
    public static void main(String[] args) throws Exception {
        if (args.length != 1) {
            System.err.println("usage: Py4JGateway <model folder>");
            System.exit(2);
        }
        Py4JGateway entryPoint = new Py4JGateway(new File(args[0]));
        GatewayServer server = new GatewayServer(entryPoint, 0); // port 0: a free loopback port
        server.start();
        System.out.println("PORT " + server.getListeningPort());
        System.out.flush();
        while (System.in.read() != -1) {
            // wait for the parent to close our standard input
        }
        server.shutdown();
        entryPoint.session.close();
        System.exit(0);
    }
}
