package com.alpyperl.launcher;

import com.alpyperl.connector.ActionMask;
import com.alpyperl.connector.AgentTable;
import com.alpyperl.connector.Drawable;
import com.alpyperl.connector.EpisodeAbandoned;
import com.alpyperl.connector.Json;
import com.alpyperl.connector.MaskedModel;
import com.alpyperl.connector.ModelException;
import com.alpyperl.connector.MultiAgentModel;
import com.alpyperl.connector.RLConnector;
import com.alpyperl.connector.RLModel;
import com.alpyperl.connector.Space;
import com.alpyperl.launcher.output.InstanceOutput;
import com.alpyperl.launcher.output.ModelOutput;
import com.alpyperl.launcher.runtime.ExitReporter;
import com.alpyperl.launcher.runtime.ModelFolder;
import com.alpyperl.launcher.runtime.ModelLoadException;
import com.alpyperl.launcher.runtime.ModelRuntime;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * What a model thread runs: the commands of its session (read the model's spaces, run an episode,
 * close), with the state of the episode it runs. Once the caller gave up on it (a timeout) it is
 * orphaned and never touches the session again; a new worker serves the session then.
 */
final class ModelWorker implements Runnable {
    /** The model threads of all sessions that run now, platform and virtual ones alike. */
    private static final Set<Thread> LIVE_THREADS = ConcurrentHashMap.newKeySet();

    static {
        ExitReporter.findModelThreadsWith(ModelWorker::liveThreads);
    }

    /** The thread that runs this worker: a platform daemon thread, or a virtual thread. */
    final Thread thread;
    /** Set when the caller gave up on this thread (timeout): it must never touch the session again. */
    volatile boolean orphaned;
    /** The connector of the model this worker runs now, or null. */
    RLConnector connector;
    /** How many decisions the current episode has made. */
    int decisions;
    /** The first failure of model code that the connector saw in this episode. */
    Throwable modelFailure;

    private final Handoff handoff;
    private final ModelHost host;
    private final ModelFolder folder;
    private final InstanceOutput output;

    /** A worker whose (unstarted) thread is named {@code name}, of {@code handoff}'s kind. */
    ModelWorker(String name, Handoff handoff, ModelHost host, ModelFolder folder, InstanceOutput output) {
        this.handoff = handoff;
        this.host = host;
        this.folder = folder;
        this.output = output;
        this.thread = handoff.newThread(this, name);
        thread.setContextClassLoader(folder.classLoader());
    }

    /** The model threads that run now, virtual ones included (which {@code Thread.getAllStackTraces()} omits). */
    static Set<Thread> liveThreads() {
        return Collections.unmodifiableSet(LIVE_THREADS);
    }

    @Override
    public void run() {
        LIVE_THREADS.add(thread);
        host.bind(this);
        ModelOutput.route(output);
        try {
            serveCommands();
        } catch (EpisodeAbandoned | ThreadDeath orphanedOrStopped) {
            // The caller gave up on this thread after a timeout; a new thread serves the session.
        } finally {
            LIVE_THREADS.remove(thread);
        }
    }

    private void serveCommands() {
        boolean commandPending = false;
        while (true) {
            if (!commandPending) {
                handoff.awaitModelTurn(this);
            }
            commandPending = false;
            if (orphaned) {
                return;
            }
            switch (handoff.command) {
                case Handoff.CLOSE:
                    handBack(ModelSession.TRUNCATED, false, null);
                    return;
                case Handoff.PROBE:
                    probe();
                    break;
                case Handoff.RUN_EPISODE:
                    commandPending = runEpisode();
                    break;
                default:
                    fail(new IllegalStateException("no episode is waiting for an action"));
                    break;
            }
        }
    }

    /** Reports the outcome and gives the turn back to the caller (see {@link Handoff#handBack}). */
    void handBack(int newStatus, boolean inDecision, Throwable cause) {
        handBack(newStatus, inDecision, cause, null, 0);
    }

    /**
     * As {@link #handBack(int, boolean, Throwable)}, writing {@code observation} (if not null) and
     * {@code reward} into the shared row first.
     */
    void handBack(int newStatus, boolean inDecision, Throwable cause, double[] observation, double reward) {
        if (!inDecision) {
            output.endLines(); // the episode is over: a partial last line is complete now
        }
        handoff.handBack(this, newStatus, inDecision, cause, host.row(), observation, reward);
    }

    /** Reports {@code cause} as the outcome. */
    void fail(Throwable cause) {
        handBack(Handoff.FAILED, false, cause);
    }

    /** Runs one episode. Returns true when it was abandoned by a command that still has to be done. */
    private boolean runEpisode() {
        output.endLines(); // a partial line of an abandoned episode is not continued by this one
        ModelRuntime.ModelRun run = null;
        connector = null;
        decisions = 0;
        modelFailure = null;
        handoff.abandonEpisode = false;
        Throwable error = null;
        try {
            run = folder.runtime().create(handoff.parameters, handoff.episodeSeed);
            run.run();
        } catch (EpisodeAbandoned abandoned) {
            return !orphaned;
        } catch (Throwable t) {
            error = t;
        } finally {
            error = dispose(run, error);
        }
        if (handoff.abandonEpisode) {
            // The model caught EpisodeAbandoned and returned: the command that abandoned it is still to be done.
            return true;
        }
        if (modelFailure != null) {
            error = modelFailure; // what the connector saw first names the failing call best
        }
        if (error == null && connector == null) {
            error = new ModelException("the model ended its run without creating an RLConnector; "
                    + "create one in the model (new RLConnector(this)) and call requestAction() at each decision"
                    + run.endOfRunHint());
        } else if (error == null && decisions == 0) {
            error = new ModelException("the model ended its run before its first requestAction(), so there is "
                    + "no first observation; call requestAction() where the first decision is needed"
                    + run.endOfRunHint());
        }
        if (error != null) {
            fail(error);
            return false;
        }
        host.handBackEndOfRun(this);
        return false;
    }

    /** Creates the model to read its spaces and parameter names (see {@link ModelSession#describeModel}). */
    private void probe() {
        ModelRuntime.ModelRun run = null;
        Throwable problem = null;
        connector = null;
        try {
            run = folder.runtime().create(Collections.emptyMap(), handoff.episodeSeed);
            if (run.model() == null) {
                run.build(); // a model whose connector declares the spaces while the model is built (ALPypeRL 1.x)
            }
            RLModel model = connector != null ? connector.getModel() : run.model();
            if (model == null) {
                throw new ModelLoadException("the model does not implement " + RLModel.class.getName());
            }
            Space observation = model.getObservationSpace();
            Space action = model.getActionSpace();
            StringBuilder json = new StringBuilder("{\"observation_space\":");
            json.append(observation == null ? "null" : observation.toJson());
            json.append(",\"action_space\":").append(action == null ? "null" : action.toJson());
            MultiAgentModel multi = model instanceof AgentTable ? ((AgentTable) model).getModel()
                    : model instanceof MultiAgentModel ? (MultiAgentModel) model : null;
            handoff.modelDraws = (multi != null ? multi : model) instanceof Drawable;
            if (multi != null) {
                json.append(",\"agents\":").append(AgentTable.describe(multi));
            }
            handoff.modelUsesMask = multi == null && model instanceof MaskedModel;
            if (handoff.modelUsesMask) {
                if (action != null) {
                    ActionMask.size(action); // refuses an action space that has no mask
                }
                json.append(",\"action_mask\":true");
            }
            json.append(",\"parameters\":");
            List<String> names = folder.runtime().parameterNames();
            if (names == null) {
                json.append("null");
            } else {
                json.append('[');
                for (int i = 0; i < names.size(); i++) {
                    if (i > 0) {
                        json.append(',');
                    }
                    Json.appendString(json, names.get(i));
                }
                json.append(']');
            }
            appendParameterDefaults(json, folder.runtime().parameterDefaults());
            handoff.probeResult = json.append('}').toString();
        } catch (EpisodeAbandoned abandoned) {
            throw abandoned;
        } catch (Throwable t) {
            problem = t;
        } finally {
            problem = dispose(run, problem);
        }
        // Only now hand the turn back: the caller may look at the connector (render) once it has the turn.
        connector = null;
        if (problem != null) {
            fail(problem);
        } else {
            handBack(ModelSession.TRUNCATED, false, null);
        }
    }

    /** {@code ,"parameter_defaults":{name: {"type": ..., "text": ...}, ...}} if the runtime read them. */
    private static void appendParameterDefaults(StringBuilder json, Map<String, ModelRuntime.ParameterDefault> defaults) {
        if (defaults == null) {
            return;
        }
        json.append(",\"parameter_defaults\":{");
        String separator = "";
        for (Map.Entry<String, ModelRuntime.ParameterDefault> parameter : defaults.entrySet()) {
            json.append(separator);
            Json.appendString(json, parameter.getKey());
            json.append(":{\"type\":");
            Json.appendString(json, parameter.getValue().type);
            json.append(",\"text\":");
            Json.appendString(json, parameter.getValue().text);
            json.append('}');
            separator = ",";
        }
        json.append('}');
    }

    /** Disposes {@code run} (if there is one); returns {@code error}, or what disposing threw if that is null. */
    private static Throwable dispose(ModelRuntime.ModelRun run, Throwable error) {
        if (run != null) {
            try {
                run.dispose();
            } catch (Throwable t) {
                return error != null ? error : t;
            }
        }
        return error;
    }
}
