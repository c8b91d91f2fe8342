package com.alpyperl.connector;

import java.io.EOFException;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.lang.management.LockInfo;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadInfo;
import java.lang.management.ThreadMXBean;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.DoubleBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.security.SecureRandom;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Attach mode: the model runs in a JVM that alpyperl did not start (AnyLogic's Run button, or an
 * export started by its own launch script) and is trained by a Python {@code AnyLogicEnv(attach=True)}
 * over one local, authenticated connection ({@link AttachProtocol}).
 *
 * <p>The run AnyLogic started connects at its first {@code requestAction()}: the connector reads
 * the connection file Python wrote (port and token), connects to 127.0.0.1, proves it knows the
 * token, describes the model, pauses that run and returns. From then on a thread of the connector
 * ("ALPypeRL attached to Python") serves Python: each reset stops the run and starts a new root on
 * the same engine with the episode's seed and parameters (AnyLogic shows it), and runs it; each
 * {@code requestAction()} of that run sends one message (observation, reward, status) and reads one
 * (the action). While it waits, it notices AnyLogic's Stop, tells Python, and lets the stop happen;
 * when Python goes away it ends the run with a message on the console.
 */
final class AttachedHost extends ConnectorHost {
    /** The system property that sets every connector of the JVM to attach mode ("true"). */
    static final String ATTACH_PROPERTY = "alpyperl.attach";
    /** The environment variable read when the property is not set ("1" or "true"). */
    static final String ATTACH_VARIABLE = "ALPYPERL_ATTACH";
    /** The system property that names the connection file (default: ~/.alpyperl/attach.json). */
    static final String FILE_PROPERTY = "alpyperl.attach.file";
    /** The environment variable read when the property is not set. */
    static final String FILE_VARIABLE = "ALPYPERL_ATTACH_FILE";

    /** How often a wait for Python looks whether AnyLogic stopped the run (ms). */
    private static final int POLL_MILLIS = 200;
    /** How long the connection and the greeting may take (ms). */
    private static final int GREETING_MILLIS = 10_000;
    private static final long MAX_FILE_BYTES = 64 * 1024;

    /** The host of the connection in use, or null. */
    private static AttachedHost active;

    private final Socket socket;
    private final AttachProtocol.Reader reader;
    private final AttachProtocol.Writer writer;
    private final AttachedEngine engine;
    private final String label;
    private volatile boolean ended;

    private Space observationSpace;
    private Space actionSpace;
    /** The model has an action mask ({@link MaskedModel}), as it described itself. */
    private boolean masked;
    /** For a masked model: where its mask and its own observation lie in the observation Python reads. */
    private ActionMask.Layout maskLayout;
    /** The space of the model's own observation: the observation space, or its part beside the mask. */
    private Space modelObservationSpace;
    /** A multi-agent model's agent type spaces agreed with Python (see {@link ConnectorHost#agentTypeSpaces()}), or null. */
    private Object agentTypeSpaces;
    /** The mask of the decision in flight (null: every action valid). */
    private boolean[] decisionMask;
    private long episodeSeed;
    /** The connector of the episode being run (made by the new root on the serving thread). */
    private RLConnector current;
    /** The episode is over for the model: its later requestAction() calls return at once. */
    private boolean abandoned;
    /** The command that ended the episode (RESET or CLOSE), waiting in the reader; or -1. */
    private int nextCommand = -1;
    /** An error of this episode has been sent to Python. */
    private boolean errorSent;
    /** Whether the serving thread is inside the engine's runFast(). */
    private boolean inRun;
    private double[] action;
    /** The connection ended during a run that is to be finished once the engine let go of it. */
    private boolean finishAfterRun;

    private AttachedHost(Socket socket, AttachedEngine engine, String label) throws IOException {
        this.socket = socket;
        this.engine = engine;
        this.label = label;
        this.reader = new AttachProtocol.Reader(socket.getInputStream(), 4096);
        this.writer = new AttachProtocol.Writer(socket.getOutputStream(), 4096);
    }

    /** Whether attach mode is asked for: by the connector, the system property or the environment variable. */
    static boolean requested(boolean byConnector) {
        if (byConnector) {
            return true;
        }
        String setting = System.getProperty(ATTACH_PROPERTY);
        if (setting == null) {
            setting = System.getenv(ATTACH_VARIABLE);
        }
        return setting != null && (setting.equalsIgnoreCase("true") || setting.equals("1"));
    }

    /** The connection file Python writes and the connector reads. */
    static Path connectionFile() {
        String file = System.getProperty(FILE_PROPERTY);
        if (file == null) {
            file = System.getenv(FILE_VARIABLE);
        }
        return file != null ? Paths.get(file) : Paths.get(System.getProperty("user.home"), ".alpyperl", "attach.json");
    }

    /**
     * Connects the model of {@code connector} (whose run AnyLogic started) to the waiting Python,
     * pauses that run, and starts serving Python on a thread of its own. Throws
     * IllegalStateException saying what to do when no Python waits, it refuses, or the model cannot
     * be attached.
     */
    static synchronized AttachedHost connect(RLConnector connector) {
        if (active != null && !active.ended) {
            throw new IllegalStateException("ALPypeRL: this model is already attached to Python (" + active.label
                    + "); a second run cannot attach at the same time");
        }
        AttachedEngine engine = AttachedEngine.of(rootOf(connector));
        if (engine == null) {
            throw new IllegalStateException("ALPypeRL: attach mode needs a model run by AnyLogic's engine, and the "
                    + "model "
                    + rootOf(connector).getClass().getName() + " has none (no getEngine()); a plain Java model is "
                    + "trained in-process: AnyLogicEnv(model=FOLDER)");
        }
        Path file = connectionFile();
        Map<String, Object> settings = readConnectionFile(file);
        int port = ((Number) settings.get("port")).intValue();
        byte[] token = hex((String) settings.get("token"), file);
        Socket socket = new Socket();
        AttachedHost host;
        try {
            socket.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), GREETING_MILLIS);
            socket.setTcpNoDelay(true);
            socket.setSoTimeout(POLL_MILLIS);
            host = new AttachedHost(socket, engine, "127.0.0.1:" + port);
            host.greet(token, connector);
        } catch (Refused e) {
            closeQuietly(socket);
            throw new IllegalStateException("ALPypeRL: the Python environment on 127.0.0.1:" + port + " cannot take "
                    + "this model: " + e.getMessage(), e);
        } catch (IOException e) {
            closeQuietly(socket);
            throw new IllegalStateException("ALPypeRL: no Python environment answers on 127.0.0.1:" + port + " (from "
                    + file + "): " + e.getMessage() + ". Start AnyLogicEnv(attach=True) in Python first and press Run "
                    + "while it waits", e);
        }
        active = host;
        System.out.println("ALPypeRL: attached to Python on " + host.label + "; Python now runs the episodes");
        engine.pause();
        Thread serving = new Thread(host::serve, "ALPypeRL attached to Python");
        serving.setDaemon(true);
        serving.start();
        return host;
    }

    private static Map<String, Object> readConnectionFile(Path file) {
        String how = "AnyLogicEnv(attach=True) writes it while it waits for the model; start it in Python first, "
                + "then press Run";
        try {
            if (!Files.isRegularFile(file)) {
                throw new IllegalStateException("ALPypeRL: this model is set to train with Python (attach mode), "
                        + "but no "
                        + "Python environment waits for it: there is no connection file " + file + ". " + how);
            }
            if (Files.size(file) > MAX_FILE_BYTES) {
                throw new IllegalStateException("ALPypeRL: the connection file " + file + " is too large to be one");
            }
            Object parsed = Json.parse(new String(Files.readAllBytes(file), StandardCharsets.UTF_8));
            if (parsed instanceof Map) {
                @SuppressWarnings("unchecked")
                Map<String, Object> settings = (Map<String, Object>) parsed;
                if (settings.get("port") instanceof Number && settings.get("token") instanceof String) {
                    return settings;
                }
            }
            throw new IllegalStateException("ALPypeRL: the connection file " + file + " has no port and token; " + how);
        } catch (IOException | IllegalArgumentException e) {
            throw new IllegalStateException("ALPypeRL: the connection file " + file + " cannot be read ("
                    + e.getMessage()
                    + "); " + how, e);
        }
    }

    private static byte[] hex(String text, Path file) {
        if (text.length() != 2 * AttachProtocol.NONCE_BYTES || !text.matches("[0-9a-fA-F]+")) {
            throw new IllegalStateException("ALPypeRL: the token in the connection file " + file + " is malformed");
        }
        byte[] bytes = new byte[text.length() / 2];
        for (int i = 0; i < bytes.length; i++) {
            bytes[i] = (byte) Integer.parseInt(text.substring(2 * i, 2 * i + 2), 16);
        }
        return bytes;
    }

    /** The greeting: Python's challenge, the model's proof and description, Python's proof. */
    private void greet(byte[] token, RLConnector connector) throws IOException {
        long deadline = System.nanoTime() + GREETING_MILLIS * 1_000_000L;
        AttachProtocol.Waiting patience = () -> {
            if (System.nanoTime() > deadline) {
                throw new IOException("it did not greet the model within " + GREETING_MILLIS / 1000 + " s");
            }
        };
        int kind = reader.read(patience);
        if (kind == AttachProtocol.REFUSED) {
            throw new Refused(reader.text());
        }
        if (kind != AttachProtocol.CHALLENGE || reader.length() != 4 + AttachProtocol.NONCE_BYTES) {
            throw new IOException("it sent no challenge (message kind " + kind + ")");
        }
        ByteBuffer challenge = reader.payload();
        int version = challenge.getInt(0);
        if (version != AttachProtocol.VERSION) {
            throw new IOException("it speaks version " + version + " of the attach protocol and this connector "
                    + AttachProtocol.VERSION + "; use the same alpyperl version on both sides (the connector jar in "
                    + "the model and the Python package)");
        }
        byte[] theirNonce = new byte[AttachProtocol.NONCE_BYTES];
        challenge.position(4);
        challenge.get(theirNonce);
        byte[] ourNonce = new byte[AttachProtocol.NONCE_BYTES];
        new SecureRandom().nextBytes(ourNonce);
        byte[] description = describe(connector).getBytes(StandardCharsets.UTF_8);
        ByteBuffer hello = writer.start(AttachProtocol.HELLO, 2 * AttachProtocol.NONCE_BYTES + description.length);
        hello.put(AttachProtocol.proof(token, "model", theirNonce)).put(ourNonce).put(description);
        writer.send();
        kind = reader.read(patience);
        if (kind == AttachProtocol.REFUSED) {
            throw new Refused(reader.text());
        }
        byte[] theirProof = new byte[AttachProtocol.NONCE_BYTES];
        if (kind != AttachProtocol.WELCOME || reader.length() != theirProof.length) {
            throw new IOException("it did not welcome the model (message kind " + kind + ")");
        }
        reader.payload().position(0);
        reader.payload().get(theirProof);
        if (!AttachProtocol.sameProof(AttachProtocol.proof(token, "python", ourNonce), theirProof)) {
            throw new IOException("it does not know the token of the connection file: it is not the environment "
                    + "that wrote the file");
        }
    }

    /** The model's root: the model of {@code connector}, or the multi-agent model whose agents' table it is. */
    private static Object rootOf(RLConnector connector) {
        RLModel model = connector.getModel();
        return model instanceof AgentTable ? ((AgentTable) model).getModel() : model;
    }

    /**
     * The model's spaces (JSON or null), parameter names and, for a multi-agent model, its agent
     * types, as the launcher describes a model.
     */
    private String describe(RLConnector connector) {
        StringBuilder json = new StringBuilder("{\"observation_space\": ");
        Space observation = connector.getModel().getObservationSpace();
        json.append(observation == null ? "null" : observation.toJson()).append(", \"action_space\": ");
        Space actions = connector.getModel().getActionSpace();
        json.append(actions == null ? "null" : actions.toJson()).append(", \"parameters\": [");
        String[] names = engine.parameterNames();
        for (int i = 0; i < names.length; i++) {
            Json.appendString(json.append(i > 0 ? ", " : ""), names[i]);
        }
        json.append("]");
        masked = connector.getModel() instanceof MaskedModel;
        if (masked) {
            json.append(", \"action_mask\": true"); // Python reads {action_mask, observations}
        }
        json.append(", \"model\": ");
        Json.appendString(json, engine.rootClassName(rootOf(connector).getClass().getSimpleName()));
        if (connector.getModel() instanceof AgentTable) {
            json.append(", \"agents\": ").append(AgentTable.describe(((AgentTable) connector.getModel()).getModel()));
        }
        return json.append('}').toString();
    }

    // ---- the serving thread ---------------------------------------------------------------------

    /** Serves Python's commands until it closes, goes away, or AnyLogic stops the run. */
    private void serve() {
        bindToCurrentThread();
        try {
            awaitEngineStill();
            int kind = reader.read(this::stillWaiting);
            while (true) {
                if (kind == AttachProtocol.CONFIGURE) {
                    configure(reader.text());
                    kind = reader.read(this::stillWaiting);
                } else if (kind == AttachProtocol.RESET) {
                    if ("IDLE".equals(engine.state())) {
                        throw new StopPressed(); // AnyLogic stopped the run between episodes (this host never does)
                    }
                    kind = runEpisode();
                    if (kind < 0) {
                        return;
                    }
                } else if (kind == AttachProtocol.CLOSE) {
                    end("Python closed the environment; the run ends", true);
                    return;
                } else {
                    throw new AttachProtocol.ProtocolException("Python sent message kind " + kind
                            + " where a reset or configuration was expected");
                }
            }
        } catch (StopPressed stop) {
            stopped();
        } catch (IOException e) {
            lost(e);
        } catch (RuntimeException | Error e) {
            System.err.println("ALPypeRL: the connection to Python ends because of an internal error: " + e);
            e.printStackTrace();
            end(null, false);
        }
    }

    /** Waits until AnyLogic's thread has left the event of the first requestAction() (the run paused). */
    private void awaitEngineStill() {
        long deadline = System.nanoTime() + 30_000_000_000L;
        while ("RUNNING".equals(engine.state()) && System.nanoTime() < deadline) {
            try {
                Thread.sleep(2);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }

    private void configure(String json) {
        Object parsed = Json.parse(json);
        @SuppressWarnings("unchecked")
        Map<String, Object> spaces = (Map<String, Object>) parsed;
        observationSpace = Space.fromJsonValue(spaces.get("observation_space"), "the observation space");
        actionSpace = Space.fromJsonValue(spaces.get("action_space"), "the action space");
        agentTypeSpaces = agentTypesOf(spaces.get("observation_space"));
        action = new double[actionSpace.flatSize()];
        maskLayout = masked ? ActionMask.Layout.of(observationSpace, actionSpace) : null;
        modelObservationSpace = masked ? maskLayout.modelObservationSpace : observationSpace;
    }

    /**
     * Starts the episode the RESET in the reader asks for and runs it until Python's next command
     * ends it; returns that command, or -1 when the connection ended.
     */
    private int runEpisode() throws IOException {
        ByteBuffer payload = reader.payload();
        long seed = payload.getLong(0);
        String parametersJson = new String(payload.array(), 8, reader.length() - 8, StandardCharsets.UTF_8);
        if (observationSpace == null) {
            throw new AttachProtocol.ProtocolException("Python reset the model before it configured the spaces");
        }
        episodeSeed = seed;
        current = null;
        abandoned = false;
        errorSent = false;
        nextCommand = -1;
        try {
            String state = engine.restart(seed, parameters(parametersJson));
            if ("ERROR".equals(state)) {
                sendError("the model failed while its run started (On startup); AnyLogic's console shows the "
                        + "exception");
            }
        } catch (RuntimeException | Error e) {
            sendError("the model failed while its run started: " + e + "\n" + stackTrace(e));
        }
        if (!errorSent) {
            while (true) {
                inRun = true;
                try {
                    engine.runFast();
                } finally {
                    inRun = false;
                }
                if (ended) {
                    if (finishAfterRun) {
                        engine.finish();
                    }
                    return -1;
                }
                if (nextCommand >= 0) {
                    return nextCommand;
                }
                String state = engine.state();
                if ("PAUSED".equals(state)) {
                    continue; // the model (or AnyLogic's Pause) paused its run: it goes on
                }
                if ("IDLE".equals(state)) {
                    throw new StopPressed();
                }
                if ("ERROR".equals(state)) {
                    if (!errorSent) {
                        sendError("the model failed during its run (the engine is in state ERROR); AnyLogic's "
                                + "console shows the exception");
                    }
                } else if (current == null) {
                    sendError("the run ended (engine state " + state + ") before the model created its RLConnector");
                } else if (!abandoned) {
                    endOfRun();
                }
                break;
            }
        }
        int kind = reader.read(this::stillWaiting);
        if (kind == AttachProtocol.STEP) {
            throw new AttachProtocol.ProtocolException("Python sent an action after the episode ended");
        }
        return kind;
    }

    private static Map<String, Object> parameters(String json) {
        Object parsed = Json.parse(json.isEmpty() ? "{}" : json);
        if (!(parsed instanceof Map)) {
            throw new IllegalArgumentException("the model parameters are not a JSON object");
        }
        @SuppressWarnings("unchecked")
        Map<String, Object> values = (Map<String, Object>) parsed;
        return values.isEmpty() ? Collections.emptyMap() : new LinkedHashMap<>(values);
    }

    /** The run ended without a pending decision: the last observation, and whether the model finished. */
    private void endOfRun() throws IOException {
        try {
            double[] observation = withMask(observe(current, modelObservationSpace), null); // no action follows
            double reward = reward(current);
            boolean finished = finished(current);
            sendDecision(finished ? AttachProtocol.TERMINATED : AttachProtocol.TRUNCATED, observation, reward);
        } catch (ModelException e) {
            sendError(e.getMessage() + "\n" + stackTrace(e));
        }
    }

    // ---- ConnectorHost -------------------------------------------------------------------------

    @Override
    protected void attach(RLConnector created) {
        if (current != null && current != created) {
            throw new ModelException("the model created a second RLConnector; create exactly one per model instance");
        }
        current = created;
    }

    @Override
    protected long episodeSeed() {
        return episodeSeed;
    }

    @Override
    protected Space observationSpace() {
        return modelObservationSpace;
    }

    @Override
    protected Space actionSpace() {
        return actionSpace;
    }

    @Override
    protected Object agentTypeSpaces() {
        return agentTypeSpaces;
    }

    /**
     * A decision of the episode being run: one message to Python, one back. The run AnyLogic
     * started (before Python's first reset) and an abandoned episode get no answer: the call
     * returns and the engine, paused, ends the event.
     */
    @Override
    protected void decide(RLConnector asking) {
        if (asking != current || abandoned || ended) {
            return;
        }
        try {
            double[] observation;
            double reward;
            boolean finished;
            boolean truncated;
            try {
                observation = observe(asking, modelObservationSpace);
                reward = reward(asking);
                finished = finished(asking);
                truncated = !finished && truncated(asking);
                decisionMask = maskLayout != null && !finished && !truncated
                        ? ActionMask.of(maskedModel(asking), actionSpace) : null;
                observation = withMask(observation, decisionMask);
            } catch (ModelException e) {
                sendError(e.getMessage() + "\n" + stackTrace(e));
                abandoned = true;
                throw e;
            }
            sendDecision(finished ? AttachProtocol.TERMINATED : truncated ? AttachProtocol.TRUNCATED
                    : AttachProtocol.RUNNING, observation, reward);
            while (true) {
                int kind = reader.read(this::stillWaiting);
                if (kind == AttachProtocol.STEP) {
                    String problem = readAction(asking);
                    if (problem != null) {
                        writer.send(AttachProtocol.ACTION_REFUSED, problem);
                        continue;
                    }
                    try {
                        apply(asking, new RLAction(actionSpace, action, 0));
                    } catch (ModelException e) {
                        sendError(e.getMessage() + "\n" + stackTrace(e));
                        abandoned = true;
                        throw e;
                    }
                    return;
                }
                if (kind != AttachProtocol.RESET && kind != AttachProtocol.CLOSE) {
                    throw new AttachProtocol.ProtocolException("Python sent message kind " + kind
                            + " where an action, a reset or a close was expected");
                }
                nextCommand = kind;
                abandoned = true;
                engine.pause();
                return;
            }
        } catch (StopPressed stop) {
            abandoned = true;
            engine.pause();
            stopped();
        } catch (IOException e) {
            abandoned = true;
            engine.pause();
            lost(e);
        }
    }

    /**
     * Reads the STEP in the reader into {@link #action}; why it is no action of the space (for a
     * multi-agent model: of a waiting agent's space, or one its mask forbids), or null.
     */
    private String readAction(RLConnector asking) {
        int values = reader.length() / 8;
        if (reader.length() != 8 * action.length) {
            return "the action has " + values + " values, but the action space " + actionSpace + " has "
                    + action.length;
        }
        ByteBuffer flat = reader.payload();
        for (int i = 0; i < action.length; i++) {
            action[i] = flat.getDouble(8 * i);
        }
        String problem = actionSpace.problemWith(DoubleBuffer.wrap(action), 0);
        if (problem == null && asking.getModel() instanceof AgentTable) {
            problem = ((AgentTable) asking.getModel()).actionProblem(DoubleBuffer.wrap(action), 0);
        }
        if (problem == null) {
            problem = ActionMask.problem(actionSpace, decisionMask, DoubleBuffer.wrap(action), 0);
            problem = problem == null ? null : "the action is masked: " + problem;
        }
        return problem;
    }

    /** The observation to send: the model's own, with its mask in front for a masked model. */
    private double[] withMask(double[] observation, boolean[] mask) {
        return maskLayout == null ? observation : maskLayout.combine(observation, mask);
    }

    /** The model of a connector whose model described itself as masked. */
    private static MaskedModel maskedModel(RLConnector connector) {
        if (!(connector.getModel() instanceof MaskedModel)) {
            throw new ModelException("the model said it has an action mask when it connected, but its instance "
                    + connector.getModel().getClass().getName() + " does not implement MaskedModel");
        }
        return (MaskedModel) connector.getModel();
    }

    private void sendDecision(int status, double[] observation, double reward) throws IOException {
        ByteBuffer message = writer.start(status, 8 * (observation.length + 1));
        for (double value : observation) {
            message.putDouble(value);
        }
        message.putDouble(reward);
        writer.send();
    }

    private void sendError(String text) throws IOException {
        errorSent = true;
        writer.send(AttachProtocol.MODEL_ERROR, text);
    }

    // ---- the end of the connection --------------------------------------------------------------

    /** While a read waits: AnyLogic's Stop (or the engine stopped behind the model's back) ends the wait. */
    private void stillWaiting() throws IOException {
        String state = engine.state();
        boolean stoppedByAnyLogic = inRun ? "IDLE".equals(state) || "FINISHED".equals(state) || stopWaitsForEngine()
                : "IDLE".equals(state);
        if (stoppedByAnyLogic) {
            throw new StopPressed();
        }
    }

    /**
     * Whether a thread waits to stop the engine while the model holds it (AnyLogic's engine runs
     * events under its monitor, so a Stop pressed while the model waits for Python waits for it).
     */
    private boolean stopWaitsForEngine() {
        if (!inRun) {
            return false;
        }
        ThreadMXBean threads = ManagementFactory.getThreadMXBean();
        int engineLock = System.identityHashCode(engine.engine());
        for (ThreadInfo info : threads.getThreadInfo(threads.getAllThreadIds(), 1)) {
            if (info == null || info.getThreadState() != Thread.State.BLOCKED) {
                continue;
            }
            LockInfo lock = info.getLockInfo();
            StackTraceElement[] stack = info.getStackTrace();
            if (lock != null && lock.getIdentityHashCode() == engineLock && stack.length > 0
                    && stack[0].getMethodName().equals("stop")) {
                return true;
            }
        }
        return false;
    }

    /** AnyLogic stopped the run: tells Python, and ends the connection (Run connects again). */
    private void stopped() {
        try {
            writer.send(AttachProtocol.STOPPED, "the model's run was stopped in AnyLogic");
        } catch (IOException e) {
            // Python is gone as well
        }
        end("the run was stopped in AnyLogic; Python was told. Press Run again to attach again (Python's reset() "
                + "waits for the model)", false);
    }

    /** The connection broke: Python ended, closed the environment, or sent what it must not. */
    private void lost(IOException e) {
        String reason = e instanceof EOFException ? "the Python process ended or closed the connection"
                : e instanceof AttachProtocol.ProtocolException ? "Python sent a malformed message: " + e.getMessage()
                : "the connection failed: " + e;
        end("the connection to Python was lost (" + reason + "); the run stops", true);
    }

    private void end(String message, boolean finishRun) {
        synchronized (AttachedHost.class) {
            ended = true;
            if (active == this) {
                active = null;
            }
        }
        closeQuietly(socket);
        if (message != null) {
            System.err.println("ALPypeRL: " + message + ".");
        }
        finishAfterRun = finishRun && inRun;
        if (finishRun && !inRun) {
            try {
                engine.finish();
            } catch (RuntimeException ignored) {
                // the run is over anyway
            }
        }
    }

    private static String stackTrace(Throwable t) {
        StringWriter text = new StringWriter();
        t.printStackTrace(new PrintWriter(text));
        return text.toString();
    }

    private static void closeQuietly(Socket socket) {
        try {
            socket.close();
        } catch (IOException ignored) {
            // closing
        }
    }

    /** Python refused the model (busy, or the model's proof did not match); the message says why. */
    private static final class Refused extends IOException {
        Refused(String reason) {
            super("it refused the model: " + reason);
        }
    }

    /** AnyLogic's Stop was pressed while the model waited for Python. */
    private static final class StopPressed extends IOException {
        StopPressed() {
            super("the run was stopped in AnyLogic");
        }
    }

}
