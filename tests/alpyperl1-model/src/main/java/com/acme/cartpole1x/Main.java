package com.acme.cartpole1x;

import com.alpype.ALPypeRLClientController;
import com.alpype.ALPypeRLConnector;
import com.alpype.ActionSpace;
import com.alpype.GymSpaces;
import com.alpype.ObservationSpace;
import com.alpype.RLAction;
import com.alpype.RLMode;
import com.anylogic.engine.Agent;
import com.anylogic.engine.AgentList;
import com.anylogic.engine.Engine;
import com.anylogic.engine.EventTimeout;

/**
 * The root agent of a stand-in ALPypeRL 1.x model, shaped like the code AnyLogic 8.7 generates for
 * ALPypeRL 1.x's CartPole examples: it implements {@link ALPypeRLClientController}, embeds the
 * agent {@link ALPypeRLConnector} (instantiated in the constructor, its parameters set in {@code
 * doCreate}, then {@code createAsEmbedded()} / {@code startAsEmbedded()}), declares the spaces on
 * the connector (a list of four scalar Boxes, which 1.x turns into a Tuple, and Discrete(2)), and
 * calls {@code alPypeRLConnector.requestAction()} in a cyclic event (every 0.02 from time 0). The
 * start state is drawn from the connector's {@code getRNG()}; the physics are Gymnasium's
 * CartPole-v1; like the 1.x examples, the reward and the end are computed in {@code takeAction}
 * and the model never finishes the run itself.
 *
 * <p>Parameters: {@code rlMode} (set by the experiment, as in the 1.x examples), {@code
 * poleLength}, {@code declareSpaces} (false: the spaces are left to Python, 1.x's {@code
 * setSpaces}) and {@code traceActions} (each decision writes, after {@code requestAction()}
 * returned, the action the connector applied: alpyperl applies it inside the call, 1.x's TRAIN
 * mode only after the event).
 */
public class Main extends Agent implements ALPypeRLClientController {
    private static final long serialVersionUID = -2381554872215601167L;

    // ---- Parameters ---------------------------------------------------------------------------
    public RLMode rlMode;
    public double poleLength;
    public boolean declareSpaces;
    public boolean traceActions;

    public RLMode _rlMode_DefaultValue_xjal() {
        return null;
    }

    public void set_rlMode(RLMode value) {
        rlMode = value;
        onChange();
    }

    public void set_poleLength(double value) {
        poleLength = value;
        onChange();
    }

    public void set_declareSpaces(boolean value) {
        declareSpaces = value;
        onChange();
    }

    public void set_traceActions(boolean value) {
        traceActions = value;
        onChange();
    }

    @Override
    public void setParametersToDefaultValues() {
        super.setParametersToDefaultValues();
        rlMode = _rlMode_DefaultValue_xjal();
        poleLength = 0.5;
        declareSpaces = true;
        traceActions = false;
    }

    @Override
    public boolean setParameter(String _name_xjal, Object _value_xjal, boolean _callOnChange_xjal) {
        switch (_name_xjal) {
            case "rlMode":
                if (_callOnChange_xjal) {
                    set_rlMode((RLMode) _value_xjal);
                } else {
                    rlMode = (RLMode) _value_xjal;
                }
                return true;
            case "poleLength":
                if (_callOnChange_xjal) {
                    set_poleLength(((Number) _value_xjal).doubleValue());
                } else {
                    poleLength = ((Number) _value_xjal).doubleValue();
                }
                return true;
            case "declareSpaces":
                if (_callOnChange_xjal) {
                    set_declareSpaces((Boolean) _value_xjal);
                } else {
                    declareSpaces = (Boolean) _value_xjal;
                }
                return true;
            case "traceActions":
                if (_callOnChange_xjal) {
                    set_traceActions((Boolean) _value_xjal);
                } else {
                    traceActions = (Boolean) _value_xjal;
                }
                return true;
            default:
                return super.setParameter(_name_xjal, _value_xjal, _callOnChange_xjal);
        }
    }

    @Override
    @SuppressWarnings("unchecked")
    public <T> T getParameter(String _name_xjal) {
        switch (_name_xjal) {
            case "rlMode": return (T) rlMode;
            case "poleLength": return (T) (Double) poleLength;
            case "declareSpaces": return (T) (Boolean) declareSpaces;
            case "traceActions": return (T) (Boolean) traceActions;
            default: return super.getParameter(_name_xjal);
        }
    }

    private static final String[] _parameterNames_xjal = {"rlMode", "poleLength", "declareSpaces", "traceActions"};

    @Override
    public String[] getParameterNames() {
        return _parameterNames_xjal.clone();
    }

    // ---- Embedded agents and variables ---------------------------------------------------------
    public ALPypeRLConnector alPypeRLConnector;
    private final double[] state = new double[4];
    private double force;
    private double reward;
    private boolean done;

    // ---- Events -------------------------------------------------------------------------------
    public EventTimeout decide = new EventTimeout(this);

    @Override
    public EventTimeout.Mode getModeOf(EventTimeout _e) {
        return _e == decide ? EventTimeout.Mode.EVENT_TIMEOUT_MODE_CYCLIC : super.getModeOf(_e);
    }

    @Override
    public double getFirstOccurrenceTime(EventTimeout _e) {
        return _e == decide ? 0 : super.getFirstOccurrenceTime(_e);
    }

    @Override
    public double evaluateTimeoutOf(EventTimeout _e) {
        return _e == decide ? 0.02 : super.evaluateTimeoutOf(_e);
    }

    @Override
    public void executeActionOf(EventTimeout _e) {
        if (_e == decide) {
            // ---- the event's action, as typed in AnyLogic ----
            alPypeRLConnector.requestAction();
            if (traceActions) {
                traceln("after requestAction(): " + alPypeRLConnector.getAction());
            }
            // ----
            return;
        }
        super.executeActionOf(_e);
    }

    // ---- Generated constructor and life cycle -------------------------------------------------
    public Main(Engine engine, Agent owner, AgentList<? extends Main> ownerPopulation) {
        super(engine, owner, ownerPopulation);
        alPypeRLConnector = new ALPypeRLConnector(getEngine(), this, null);
    }

    @Override
    public void doCreate() {
        super.doCreate();
        setupParameters_alPypeRLConnector_xjal(alPypeRLConnector);
        alPypeRLConnector.setEnvironment(this);
        alPypeRLConnector.createAsEmbedded();
    }

    /** As generated from the connector's properties in AnyLogic (spaces typed as parameter values). */
    private void setupParameters_alPypeRLConnector_xjal(ALPypeRLConnector self) {
        self.connect = self._connect_DefaultValue_xjal();
        self.rlMode = rlMode;
        self.serverUrl = self._serverUrl_DefaultValue_xjal();
        self.setSpaces = declareSpaces;
        self.observationSpace = ObservationSpace.init()
                .add(GymSpaces.box(-4.8, 4.8)).add(GymSpaces.Box.unbounded())
                .add(GymSpaces.box(-0.41887902047863906, 0.41887902047863906)).add(GymSpaces.Box.unbounded())
                .build();
        self.actionSpace = ActionSpace.init().add(GymSpaces.discrete(2)).build();
        self.randomnessMode = self._randomnessMode_DefaultValue_xjal();
        self.seed = self._seed_DefaultValue_xjal();
    }

    @Override
    public void doStart() {
        super.doStart();
        alPypeRLConnector.startAsEmbedded();
        decide.start();
    }

    @Override
    public void onStartup() {
        super.onStartup();
        // ---- "On startup", as typed in AnyLogic ----
        for (int i = 0; i < state.length; i++) {
            state[i] = -0.05 + 0.1 * alPypeRLConnector.getRNG().nextDouble();
        }
    }

    @Override
    public void onDestroy() {
        alPypeRLConnector.onDestroy();
        decide.onDestroy();
        super.onDestroy();
    }

    @Override
    public void doFinish() {
        super.doFinish();
        alPypeRLConnector.doFinish();
    }

    // ---- Functions: the ALPypeRLClientController contract --------------------------------------
    @Override
    public Number[] getObservation() {
        return new Number[] {state[0], state[1], state[2], state[3]};
    }

    @Override
    public void takeAction(RLAction action) {
        force = action.getIntAction() == 1 ? 10.0 : -10.0;
        step();
        boolean fallen = Math.abs(state[0]) > 2.4 || Math.abs(state[2]) > 0.20943951023931953;
        reward = 1;
        done = fallen;
    }

    @Override
    public double getReward() {
        return reward;
    }

    @Override
    public boolean hasFinished() {
        return done;
    }

    /** One Euler step of 0.02 s of the cart-pole dynamics. */
    private void step() {
        double totalMass = 1.1;
        double poleMassLength = 0.1 * poleLength;
        double cos = Math.cos(state[2]);
        double sin = Math.sin(state[2]);
        double temp = (force + poleMassLength * state[3] * state[3] * sin) / totalMass;
        double thetaAcc = (9.8 * sin - cos * temp) / (poleLength * (4.0 / 3.0 - 0.1 * cos * cos / totalMass));
        double xAcc = temp - poleMassLength * thetaAcc * cos / totalMass;
        state[0] += 0.02 * state[1];
        state[1] += 0.02 * xAcc;
        state[2] += 0.02 * state[3];
        state[3] += 0.02 * thetaAcc;
    }
}
