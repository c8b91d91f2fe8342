package com.alpyperl.launcher;

import com.alpyperl.connector.ActionMask;
import com.alpyperl.connector.ConnectorHost;
import com.alpyperl.connector.EpisodeAbandoned;
import com.alpyperl.connector.MaskedModel;
import com.alpyperl.connector.ModelException;
import com.alpyperl.connector.RLConnector;
import com.alpyperl.connector.Space;
import com.alpyperl.launcher.output.ModelOutput;

/**
 * Answers the connector of the model a session runs ({@link ConnectorHost}): attaches the
 * connector the model creates to the model thread's worker, gives it the episode's seed and the
 * spaces agreed with the caller, and at each {@code requestAction()} hands the observation to the
 * caller (with the model's action mask, for a {@link MaskedModel}), waits for its turn and applies
 * the action the caller wrote into the shared row.
 */
final class ModelHost extends ConnectorHost {
    /** The model worker whose thread is the current thread, on model threads. */
    private static final ThreadLocal<ModelWorker> CURRENT_WORKER = new ThreadLocal<>();

    private final Handoff handoff;
    /** The row agreed with the caller (null before it configured one); published by the turn. */
    private SharedRow row;
    /** The action mask of the decision in flight (null: all valid); published by the turn. */
    private boolean[] decisionMask;

    ModelHost(Handoff handoff) {
        this.handoff = handoff;
    }

    /** The shared row, or null before the caller configured one. */
    SharedRow row() {
        return row;
    }

    /** The action mask of the decision the model waits at, or null if every action is valid. */
    boolean[] decisionMask() {
        return decisionMask;
    }

    /** Uses {@code configured} from the next exchange on (caller, between episodes). */
    void use(SharedRow configured) {
        row = configured;
    }

    /** Binds this host and {@code worker} to the calling thread, the worker's model thread. */
    void bind(ModelWorker worker) {
        CURRENT_WORKER.set(worker);
        bindToCurrentThread();
    }

    @Override
    protected void attach(RLConnector created) {
        ModelWorker self = modelThreadOrFail("new RLConnector()");
        if (self.connector != null && self.connector != created) {
            throw new ModelException("the model created a second RLConnector; create exactly one per model instance");
        }
        self.connector = created;
    }

    private static ModelWorker modelThreadOrFail(String call) {
        ModelWorker self = CURRENT_WORKER.get();
        if (self == null) {
            throw new ModelException(call + " was called on thread " + Thread.currentThread().getName()
                    + "; call it on the thread that runs the model");
        }
        return self;
    }

    @Override
    protected long episodeSeed() {
        return handoff.episodeSeed;
    }

    @Override
    protected Space observationSpace() {
        return row == null ? null : row.modelObservationSpace;
    }

    @Override
    protected Space actionSpace() {
        return row == null ? null : row.actionSpace;
    }

    @Override
    protected Object agentTypeSpaces() {
        return row == null ? null : row.agentTypeSpaces;
    }

    @Override
    protected void decide(RLConnector asking) {
        ModelWorker self = modelThreadOrFail("requestAction()");
        if (self.orphaned || handoff.abandonEpisode) {
            throw abandoned();
        }
        if (asking != self.connector) {
            throw new ModelException("requestAction() was called on an RLConnector that does not belong to this run");
        }
        double[] observation;
        double reward;
        boolean finished;
        boolean truncated;
        boolean[] mask = null;
        try {
            observation = observe(asking, row.modelObservationSpace);
            reward = reward(asking);
            finished = finished(asking);
            truncated = !finished && truncated(asking);
            if (row.maskSize == 0 && asking.getModel() instanceof MaskedModel) {
                throw new ModelException("the model has an action mask (it implements MaskedModel), but the spaces "
                        + "agreed with the caller have none; the caller must describe the model (describeModel) "
                        + "before it configures the spaces");
            }
            if (row.maskSize > 0 && !finished && !truncated) {
                mask = ActionMask.of(masked(asking), row.actionSpace);
            }
        } catch (ModelException e) {
            throw failInDecision(self, e);
        }
        self.decisions++;
        int status = finished ? ModelSession.TERMINATED : truncated ? ModelSession.TRUNCATED : ModelSession.RUNNING;
        decisionMask = mask;
        self.handBack(status, true, null, row.observationWithMask(observation, mask), reward);
        handoff.awaitModelTurn(self);
        if (self.orphaned || handoff.command != Handoff.STEP) {
            handoff.abandonEpisode = true;
            throw abandoned();
        }
        try {
            apply(asking, readAction(row.actionSpace, row.buffer, 0));
        } catch (ModelException e) {
            throw failInDecision(self, e);
        }
    }

    /** The model of a row with a mask (the model that described itself as masked). */
    private static MaskedModel masked(RLConnector connector) {
        if (!(connector.getModel() instanceof MaskedModel)) {
            throw new ModelException("the model said it has an action mask when alpyperl asked it, but its instance "
                    + connector.getModel().getClass().getName() + " does not implement MaskedModel");
        }
        return (MaskedModel) connector.getModel();
    }

    /** The run ended: hands the last observation and reward back, and whether the model finished. */
    void handBackEndOfRun(ModelWorker self) {
        try {
            // The last observation's mask allows everything: no action follows it.
            double[] observation = row.observationWithMask(observe(self.connector, row.modelObservationSpace), null);
            double reward = reward(self.connector);
            boolean finished = finished(self.connector);
            self.handBack(finished ? ModelSession.TERMINATED : ModelSession.TRUNCATED, false, null, observation, reward);
        } catch (EpisodeAbandoned abandoned) {
            throw abandoned;
        } catch (Throwable t) {
            self.fail(t);
        }
    }

    /**
     * Model code called by requestAction() failed: reports the failure to the caller at once (the
     * model might catch the exception and carry on), then waits for the next command, which ends
     * the run.
     */
    private EpisodeAbandoned failInDecision(ModelWorker self, ModelException e) {
        self.modelFailure = e;
        self.fail(e);
        handoff.awaitModelTurn(self);
        handoff.abandonEpisode = true;
        return abandoned();
    }

    /**
     * The signal that unwinds an abandoned episode out of requestAction(). What the model thread
     * prints while it unwinds (an engine may report the signal as an error) is not shown.
     */
    private static EpisodeAbandoned abandoned() {
        ModelOutput.silenceCurrentThread();
        return new EpisodeAbandoned();
    }
}
