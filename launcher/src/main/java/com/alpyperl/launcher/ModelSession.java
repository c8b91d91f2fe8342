package com.alpyperl.launcher;

import com.alpyperl.connector.ActionMask;
import com.alpyperl.connector.AgentTable;
import com.alpyperl.connector.Drawable;
import com.alpyperl.connector.Json;
import com.alpyperl.connector.RLConnector;
import com.alpyperl.connector.RLModel;
import com.alpyperl.connector.Space;
import com.alpyperl.launcher.output.InstanceOutput;
import com.alpyperl.launcher.runtime.ModelFolder;
import java.nio.ByteBuffer;
import java.util.Collections;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.locks.ReentrantLock;

/**
 * One model instance driven step by step by a caller (Python through JPype). The model runs on
 * its own thread; caller and model thread hand control to each other like coroutines, so exactly
 * one of them runs at a time.
 *
 * <p>Data travels through one buffer of doubles shared with the caller, laid out as
 * {@code [action (A values) | observation (O values) | reward]}. A step is one call: the caller
 * writes the action, calls {@link #step()}, and reads observation and reward from the buffer;
 * the returned status says whether the episode goes on ({@link #RUNNING}), has terminated or has
 * been truncated.
 *
 * <p>Life cycle: {@link #describeModel()} (spaces the model defines, its parameters), then
 * {@link #configure}, then {@link #reset(long)} and {@link #step()} as often as wanted, then
 * {@link #close()}.
 *
 * <p>The model thread is a platform thread of its own; or a virtual thread that the caller's own
 * thread runs while it waits for the model ({@link CallerCarrier}: a step is then a continuation
 * switch, no second OS thread takes part); or, in a {@link ModelSessionGroup} that asks for it, a
 * virtual thread run by a {@link CarrierLane} together with other sessions' models.
 *
 * <p>What the model thread prints goes to the console unchanged unless {@link #setOutput} sends it
 * elsewhere (see {@link InstanceOutput}); with the destination {@code "caller"}, {@link #reset} and
 * {@link #step} add {@link #OUTPUT_WAITING} to their status while lines wait for {@link #takeOutput()}.
 *
 * <p>A session is a facade over its parts: the {@link Handoff} (whose turn it is, what is asked
 * and reported, giving up on a stuck model thread), the {@link ModelWorker} that its model thread
 * runs, the {@link ModelHost} that answers the model's connector, and the {@link ModelRenderer}.
 */
public final class ModelSession implements AutoCloseable {
    /** Status: the model waits at a decision point for the next action. */
    public static final int RUNNING = 0;
    /** Status: the model has finished (terminal state). */
    public static final int TERMINATED = 1;
    /** Status: the episode stopped without the model having finished (time limit, end of run). */
    public static final int TRUNCATED = 2;
    /**
     * Added to the status that {@link #reset} and {@link #step} return when lines the model printed
     * wait for {@link #takeOutput()} (destination {@code "caller"} only). A step without output
     * returns the plain status, so checking costs the caller nothing then.
     */
    public static final int OUTPUT_WAITING = 4;

    private final ModelFolder folder;
    private final Handoff handoff;
    private final ModelHost host;
    private final InstanceOutput output;
    private final ModelRenderer renderer;
    /**
     * Serialises the caller's calls. Not a monitor: a thread that holds a monitor must not run a
     * virtual model thread (the JVM crashes when that thread yields), and callers run their models.
     */
    private final ReentrantLock callerLock = new ReentrantLock();
    private boolean closed;
    private int threadsStarted;

    /** Opens a session on a model folder and starts its model thread, a platform thread of its own. */
    public ModelSession(ModelFolder folder) {
        this(folder, new PlatformHandoff(folder.getName()));
    }

    /** Opens a session whose model thread is of {@code handoff}'s kind, and starts that thread. */
    ModelSession(ModelFolder folder, Handoff handoff) {
        this.folder = folder;
        this.handoff = handoff;
        this.host = new ModelHost(handoff);
        this.output = new InstanceOutput(handoff.label);
        output.labelAgentsWith(this::agentInCall);
        this.renderer = new ModelRenderer(folder.getName());
        startModelThread();
    }

    /**
     * What the model says about itself, as JSON: {@code observation_space} and {@code
     * action_space} (null where the model leaves them to Python), {@code parameters} (names,
     * or null if unknown before a run) and, for an AnyLogic export, {@code parameter_defaults} (name to
     * {@code {"type", "text"}}: the values an episode starts with). Creates one instance of the model to ask it.
     */
    public String describeModel(double timeoutSeconds) {
        callerLock.lock();
        try {
            ensureUsable();
            handoff.handOver(Handoff.PROBE, "create the model to read its spaces", null);
            handoff.awaitOutcome(nanos(timeoutSeconds));
            return handoff.probeResult;
        } finally {
            callerLock.unlock();
        }
    }

    /**
     * Sets the spaces (JSON, see {@link Space#toJson()}), the step timeout and the shared buffer
     * (a direct buffer over the caller's memory of at least A + O + 1 doubles, native byte order).
     */
    public void configure(String observationSpaceJson, String actionSpaceJson,
            double stepTimeoutSeconds, ByteBuffer sharedBuffer) {
        configure(observationSpaceJson, actionSpaceJson, stepTimeoutSeconds, sharedBuffer, usesActionMask());
    }

    /**
     * As {@link #configure(String, String, double, ByteBuffer)}, for a model with an action mask
     * when {@code masked} (its observation space is then the Dict of the mask and the model's own).
     */
    void configure(String observationSpaceJson, String actionSpaceJson,
            double stepTimeoutSeconds, ByteBuffer sharedBuffer, boolean masked) {
        callerLock.lock();
        try {
            ensureUsable();
            if (handoff.modelInDecision) {
                throw new IllegalStateException("configure() is only allowed between episodes");
            }
            SharedRow row = new SharedRow(observationSpaceJson, actionSpaceJson, sharedBuffer, masked);
            if (!(stepTimeoutSeconds > 0)) {
                throw new IllegalArgumentException("the step timeout must be positive, got " + stepTimeoutSeconds);
            }
            handoff.timeoutNanos = nanos(stepTimeoutSeconds);
            host.use(row);
        } finally {
            callerLock.unlock();
        }
    }

    /**
     * Sets the model parameters (a JSON object of name to value) applied from the next reset on;
     * the others keep their defaults. Unknown names are refused with the list of known ones, and
     * values that do not fit their parameter's type are refused, where the model kind knows them
     * before a run.
     */
    public void setParameters(String parametersJson) {
        callerLock.lock();
        try {
            ensureUsable();
            Map<String, Object> values = parseParameters(parametersJson);
            folder.runtime().checkParameters(values);
            handoff.parameters = values;
        } finally {
            callerLock.unlock();
        }
    }

    /**
     * Starts a new episode with this seed, abandoning the current one if it is still running, and
     * runs the model to its first decision point. Returns the status (normally {@link #RUNNING});
     * the first observation is in the buffer.
     */
    public int reset(long seed) {
        callerLock.lock();
        try {
            beginReset(seed, null);
            return finishExchange() | outputWaiting();
        } finally {
            callerLock.unlock();
        }
    }

    /**
     * Applies the action the caller wrote into the buffer and runs the model to its next
     * decision point or to the end of the episode. Returns the status; observation and reward
     * are in the buffer.
     */
    public int step() {
        callerLock.lock();
        try {
            beginStep(null);
            return finishExchange() | outputWaiting();
        } finally {
            callerLock.unlock();
        }
    }

    /**
     * Reads the observation in the buffer (as of the last reset or step) into {@code into}, which
     * holds as many values as the configured observation space (for Java callers: the buffer may
     * hold it in float32, see {@link SharedRow}).
     */
    public void readObservation(double[] into) {
        SharedRow row = host.row();
        if (row == null) {
            throw new IllegalStateException("configure() the session first");
        }
        row.readObservation(into);
    }

    /**
     * Where what the model thread prints goes from now on: {@code "console"} (unchanged, the
     * default), {@code "caller"} (whole lines wait for {@link #takeOutput()}), {@code "file"}
     * (whole lines are appended to the file {@code path}, whose folder must exist) or {@code "off"}.
     * Errors still carry what the model printed before them, whatever the destination.
     */
    public void setOutput(String destination, String path) {
        callerLock.lock();
        try {
            ensureUsable();
            InstanceOutput.Destination chosen;
            try {
                chosen = InstanceOutput.Destination.valueOf(String.valueOf(destination).toUpperCase(Locale.ROOT));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("the model's output can go to \"console\", \"caller\", \"file\" or "
                        + "\"off\", not \"" + destination + "\"");
            }
            output.sendTo(chosen, path);
        } finally {
            callerLock.unlock();
        }
    }

    /**
     * The lines the model printed since the last call (destination {@code "caller"}), each
     * starting with {@code 'O'} (System.out) or {@code 'E'} (System.err) and ending with a newline;
     * empty if there are none. Also after {@link #close()}, which completes a partial last line.
     */
    public String takeOutput() {
        return output.takeLines();
    }

    /** {@link #OUTPUT_WAITING} if lines wait for {@link #takeOutput()}, else 0. */
    int outputWaiting() {
        return output.hasWaitingLines() ? OUTPUT_WAITING : 0;
    }

    // ---- the two halves of reset() and step(), so that a group can run many sessions at once --

    /**
     * Hands the model thread a new episode; {@link #finishExchange()} waits for its first
     * decision, or {@code byLane} (if not null) is told when the model hands back.
     */
    void beginReset(long seed, CarrierLane byLane) {
        ensureUsable();
        if (host.row() == null) {
            throw new IllegalStateException("configure() the session before reset()");
        }
        if (handoff.modelThreadStuck) {
            replaceStuckModelThread();
        }
        handoff.episodeSeed = seed;
        handoff.abandonEpisode = handoff.modelInDecision;
        handoff.handOver(Handoff.RUN_EPISODE, "reach its first requestAction()", byLane);
    }

    /**
     * Hands the model thread the action in the buffer; {@link #finishExchange()} waits for the
     * next decision, or {@code byLane} (if not null) is told when the model hands back.
     */
    void beginStep(CarrierLane byLane) {
        if (handoff.status != RUNNING || !handoff.modelInDecision || handoff.modelThreadStuck || closed) {
            ensureUsable();
            throw new IllegalStateException("step() needs a running episode: the episode has ended"
                    + (handoff.status == Handoff.FAILED ? " with an error" : "") + "; call reset() first");
        }
        handoff.handOver(Handoff.STEP, "reach its next requestAction()", byLane);
    }

    /** Waits until the model thread hands back (within the step timeout) and returns the status. */
    int finishExchange() {
        return handoff.awaitOutcome(handoff.timeoutNanos);
    }

    /**
     * As {@link #finishExchange()}, waiting only until {@code deadline} (System.nanoTime()): the
     * end of the step timeout of a group step that began with this exchange.
     */
    int finishExchangeBy(long deadline) {
        return handoff.awaitOutcome(Math.max(0, deadline - System.nanoTime()), handoff.timeoutNanos);
    }

    /** The hand-off with this session's model thread (for the group that steps it). */
    Handoff handoff() {
        return handoff;
    }

    /**
     * Why the action in the buffer is not a value of the action space (see {@link
     * Space#problemWith}), or null if it is one or the session is not configured yet.
     */
    String actionProblem() {
        SharedRow row = host.row();
        return row == null ? null : row.actionProblem();
    }

    /**
     * Why the actions in the buffer are not what the agents of a multi-agent model's crossing may do
     * (an action outside its agent's space, or one its mask forbids; see {@link AgentTable}), or null
     * if they are, or the model has no agents, or it does not wait at a crossing.
     */
    String agentActionProblem() {
        SharedRow row = host.row();
        RLConnector connector = handoff.worker().connector;
        if (row == null || connector == null || !handoff.modelInDecision || handoff.modelThreadStuck
                || !(connector.getModel() instanceof AgentTable)) {
            return null;
        }
        return ((AgentTable) connector.getModel()).actionProblem(row.buffer, 0);
    }

    /**
     * Why the action in the buffer is one that the model's action mask forbids ({@link
     * com.alpyperl.connector.MaskedModel}), or null if it is allowed, or the model has no mask, or it
     * does not wait at a decision.
     */
    String maskProblem() {
        SharedRow row = host.row();
        if (row == null || row.maskSize == 0 || !handoff.modelInDecision || handoff.modelThreadStuck) {
            return null;
        }
        return ActionMask.problem(row.actionSpace, host.decisionMask(), row.buffer, 0);
    }

    /**
     * Whether the model has an action mask ({@link com.alpyperl.connector.MaskedModel}), as the last
     * {@link #describeModel} found; false before that.
     */
    boolean usesActionMask() {
        callerLock.lock();
        try {
            return handoff.modelUsesMask;
        } finally {
            callerLock.unlock();
        }
    }

    /**
     * The id of the agent of a multi-agent model whose method the connector calls now, or null
     * (called on the model's thread by its output, which labels the lines printed meanwhile).
     */
    private String agentInCall() {
        ModelWorker worker = handoff.worker();
        RLConnector connector = worker == null ? null : worker.connector;
        return connector != null && connector.getModel() instanceof AgentTable
                ? ((AgentTable) connector.getModel()).agentInCall() : null;
    }

    /** The action space agreed with the caller (null before {@link #configure}). */
    Space configuredActionSpace() {
        SharedRow row = host.row();
        return row == null ? null : row.actionSpace;
    }

    /** Ends the episode (if any) and the model thread. Safe to call more than once. */
    @Override
    public void close() {
        callerLock.lock();
        try {
            if (closed) {
                return;
            }
            closed = true;
            ModelWorker worker = handoff.worker();
            if (handoff.modelThreadStuck) {
                stopStuckThread(worker);
                output.close();
                return;
            }
            handoff.abandonEpisode = handoff.modelInDecision;
            try {
                handoff.handOver(Handoff.CLOSE, "end its episode", null);
                handoff.awaitOutcome(handoff.timeoutNanos);
                worker.thread.join(Math.max(1, handoff.timeoutNanos / 1_000_000));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } catch (RuntimeException e) {
                stopStuckThread(worker);
            } finally {
                output.close();
            }
        } finally {
            callerLock.unlock();
        }
    }

    /**
     * Whether the model draws itself (implements {@link Drawable}), as seen by {@link
     * #describeModel}; false before that.
     */
    public boolean modelDraws() {
        callerLock.lock();
        try {
            return handoff.modelDraws;
        } finally {
            callerLock.unlock();
        }
    }

    /**
     * Draws the model's current state into {@code target} (see {@link ModelRenderer}). The
     * caller's thread draws while the model thread waits (at a decision point, or after its
     * episode ended), so the hand-off invariant holds: model code never runs concurrently with itself.
     *
     * <p>Returns false, drawing nothing, when there is no model standing still to draw: before the
     * first episode, when the last reset failed before the model connected, or after a timeout
     * left the model thread running.
     */
    public boolean render(ByteBuffer target, int width, int height) {
        callerLock.lock();
        try {
            ensureUsable();
            ModelRenderer.checkSize(target, width, height);
            RLConnector current = handoff.modelThreadStuck || !handoff.handedBackThisExchange()
                    ? null : handoff.worker().connector;
            if (current == null) {
                return false;
            }
            RLModel model = current.getModel(); // a multi-agent model's root draws the scene, not its agent table
            renderer.draw(model instanceof AgentTable ? ((AgentTable) model).getModel() : model, target, width, height);
            return true;
        } finally {
            callerLock.unlock();
        }
    }

    /**
     * The label of this session ({@code <model name>#<n>}); its model thread is named
     * {@code alpyperl-model-<label>}, with a suffix {@code .<k>} for the k-th thread after a timeout.
     */
    public String getLabel() {
        return handoff.label;
    }

    /** The name of the thread that runs this session's model now (diagnostics). */
    public String getModelThreadName() {
        return handoff.worker().thread.getName();
    }

    /** Whether the model thread of this session is alive (tests and diagnostics). */
    public boolean isModelThreadAlive() {
        return handoff.worker().thread.isAlive();
    }

    /**
     * How many model threads of all sessions in this JVM are running now, platform and virtual
     * ones alike ({@code Thread.getAllStackTraces()} does not see virtual threads).
     */
    public static int liveModelThreads() {
        return ModelWorker.liveThreads().size();
    }

    // ---- the model thread's life ------------------------------------------------------------------

    private void startModelThread() {
        threadsStarted++;
        String name = "alpyperl-model-" + handoff.label + (threadsStarted > 1 ? "." + threadsStarted : "");
        ModelWorker worker = new ModelWorker(name, handoff, host, folder, output);
        handoff.serveWith(worker);
        worker.thread.start();
    }

    private void replaceStuckModelThread() {
        stopStuckThread(handoff.worker());
        handoff.forgetStuckThread();
        startModelThread();
    }

    @SuppressWarnings({"deprecation", "removal"})
    private static void stopStuckThread(ModelWorker stuck) {
        Thread thread = stuck.thread;
        thread.interrupt();
        try {
            thread.stop(); // the only way out of an endless loop in model code (unsupported from Java 20 on)
        } catch (UnsupportedOperationException | SecurityException e) {
            System.err.println("alpyperl: the stuck model thread " + thread.getName()
                    + " cannot be stopped on this Java version; it is left running as a daemon");
        }
    }

    private void ensureUsable() {
        if (closed) {
            throw new IllegalStateException("the environment is closed");
        }
    }

    private static Map<String, Object> parseParameters(String json) {
        if (json == null || json.trim().isEmpty()) {
            return Collections.emptyMap();
        }
        Object parsed = Json.parse(json);
        if (!(parsed instanceof Map)) {
            throw new IllegalArgumentException("parameters must be a JSON object, got " + json);
        }
        @SuppressWarnings("unchecked")
        Map<String, Object> values = (Map<String, Object>) parsed;
        return values;
    }

    private static long nanos(double seconds) {
        return (long) Math.min(seconds * 1e9, Long.MAX_VALUE / 4);
    }
}
