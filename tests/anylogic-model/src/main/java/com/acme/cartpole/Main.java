package com.acme.cartpole;

import com.alpyperl.connector.RLAction;
import com.alpyperl.connector.RLConnector;
import com.alpyperl.connector.RLModel;
import com.alpyperl.connector.Space;
import com.alpyperl.connector.Spaces;
import com.anylogic.engine.Agent;
import com.anylogic.engine.AgentList;
import com.anylogic.engine.Engine;
import com.anylogic.engine.EventTimeout;
import java.util.ArrayList;

/**
 * The root agent of the stand-in AnyLogic CartPole, shaped like the code AnyLogic generates for a
 * root agent whose Advanced Java "Implements" field says {@code com.alpyperl.connector.RLModel}:
 * parameters as public fields with {@code set_} setters and the generic accessors, a variable
 * {@code connector = new RLConnector(this)}, the cyclic event {@code decide} (every 0.02 time
 * units from time 0) whose action is {@code connector.requestAction(); step();}, and functions for
 * the RLModel contract. The physics are Gymnasium's CartPole-v1; the start state is drawn with
 * {@code uniform()} (the engine's default RNG); with {@code actionNoise} the push is flipped with
 * that probability, drawn from {@code connector.getRandom()}.
 *
 * <p>Like every class AnyLogic generates, it declares a {@code serialVersionUID} (the stand-in
 * engine, like AnyLogic's, runs only roots that have one). Its On destroy code destroys the event
 * ({@code decide.onDestroy()}), as generated code does. The parameter {@code poleLength} has On
 * change code that records the new length in the variable {@code poleLengths}, which exists only
 * once the agent has been created: called on a half-built agent (parameters set with
 * {@code callOnChange = true} before {@code engine.start(root)}), it throws a
 * NullPointerException, so a launcher that does that is caught.
 *
 * <p>For alpyperl's error tests the parameter {@code fault} misbehaves on purpose: {@code event}
 * (the event throws an exception at time {@code faultTime}), {@code error} (the event throws an
 * {@code AssertionError}, an Error), {@code silentEvent} (an exception that prints nothing),
 * {@code initialValue} (the initial value of the variable {@code trackLength} throws), {@code
 * startup} ("On startup" throws), {@code finishAtStartup} ("On startup" calls
 * finishSimulation()), {@code pause} (the event pauses the run at {@code faultTime}), {@code exit}
 * (the event calls {@code System.exit(3)} at {@code faultTime}), and {@code trace} (no fault: "On
 * startup", each decision and "On destroy" write a line with {@code traceln()}).
 */
public class Main extends Agent implements RLModel {
    private static final long serialVersionUID = 5106744418208203301L;

    // ---- Parameters ---------------------------------------------------------------------------
    public double poleLength;
    public double actionNoise;
    public String fault;
    public double faultTime;

    public void set_poleLength(double value) {
        if (value == poleLength) {
            return;
        }
        double _oldValue_xjal = poleLength;
        poleLength = value;
        onChange_poleLength_xjal(_oldValue_xjal);
        onChange();
    }

    protected void onChange_poleLength_xjal(double oldValue) {
        // ---- the parameter's "On change" code, as typed in AnyLogic ----
        poleLengths.add(poleLength);
    }

    public void set_actionNoise(double value) {
        if (value == actionNoise) {
            return;
        }
        actionNoise = value;
        onChange();
    }

    public void set_fault(String value) {
        if (value == fault) {
            return;
        }
        fault = value;
        onChange();
    }

    public void set_faultTime(double value) {
        if (value == faultTime) {
            return;
        }
        faultTime = value;
        onChange();
    }

    @Override
    public void setParametersToDefaultValues() {
        super.setParametersToDefaultValues();
        poleLength = 0.5;
        actionNoise = 0;
        fault = "none";
        faultTime = 0.1;
    }

    @Override
    public boolean setParameter(String _name_xjal, Object _value_xjal, boolean _callOnChange_xjal) {
        switch (_name_xjal) {
            case "poleLength":
                if (_callOnChange_xjal) {
                    set_poleLength(((Number) _value_xjal).doubleValue());
                } else {
                    poleLength = ((Number) _value_xjal).doubleValue();
                }
                return true;
            case "actionNoise":
                if (_callOnChange_xjal) {
                    set_actionNoise(((Number) _value_xjal).doubleValue());
                } else {
                    actionNoise = ((Number) _value_xjal).doubleValue();
                }
                return true;
            case "fault":
                if (_callOnChange_xjal) {
                    set_fault((String) _value_xjal);
                } else {
                    fault = (String) _value_xjal;
                }
                return true;
            case "faultTime":
                if (_callOnChange_xjal) {
                    set_faultTime(((Number) _value_xjal).doubleValue());
                } else {
                    faultTime = ((Number) _value_xjal).doubleValue();
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
            case "poleLength": return (T) (Double) poleLength;
            case "actionNoise": return (T) (Double) actionNoise;
            case "fault": return (T) fault;
            case "faultTime": return (T) (Double) faultTime;
            default: return super.getParameter(_name_xjal);
        }
    }

    private static final String[] _parameterNames_xjal = {"poleLength", "actionNoise", "fault", "faultTime"};

    @Override
    public String[] getParameterNames() {
        return _parameterNames_xjal.clone();
    }

    // ---- Plain variables ----------------------------------------------------------------------
    public RLConnector connector;
    /** The pole lengths set during the run (On change of poleLength), for a chart. */
    public ArrayList<Double> poleLengths;
    public double trackLength;
    public double x;
    public double xDot;
    public double theta;
    public double thetaDot;
    public double force;
    public double reward;
    public boolean fallen;
    public int traced;

    // ---- Events -------------------------------------------------------------------------------
    public EventTimeout decide = new EventTimeout(this);

    @Override
    public EventTimeout.Mode getModeOf(EventTimeout _e) {
        if (_e == decide) {
            return EventTimeout.Mode.EVENT_TIMEOUT_MODE_CYCLIC;
        }
        return super.getModeOf(_e);
    }

    @Override
    public double getFirstOccurrenceTime(EventTimeout _e) {
        if (_e == decide) {
            return 0;
        }
        return super.getFirstOccurrenceTime(_e);
    }

    @Override
    public double evaluateTimeoutOf(EventTimeout _e) {
        if (_e == decide) {
            return 0.02;
        }
        return super.evaluateTimeoutOf(_e);
    }

    @Override
    public void executeActionOf(EventTimeout _e) {
        if (_e == decide) {
            // ---- the event's action, as typed in AnyLogic ----
            if (fault.equals("event") && time() >= faultTime) {
                throw new IllegalStateException("the pole broke at time " + time());
            }
            if (fault.equals("error") && time() >= faultTime) {
                throw new AssertionError("the cart left its rails at time " + time());
            }
            if (fault.equals("exit") && time() >= faultTime) {
                System.exit(3);
            }
            if (fault.equals("silentEvent") && time() >= faultTime) {
                throw new SilentFailure();
            }
            if (fault.equals("pause") && time() >= faultTime && time() < faultTime + 0.02) {
                pauseSimulation();
            }
            if (fault.equals("trace")) {
                traced++;
                traceln("decision " + traced);
            }
            connector.requestAction();
            step();
            // ----
            return;
        }
        super.executeActionOf(_e);
    }

    // ---- Generated constructor and life cycle -------------------------------------------------
    public Main(Engine engine, Agent owner, AgentList<? extends Main> ownerPopulation) {
        super(engine, owner, ownerPopulation);
    }

    @Override
    public void doCreate() {
        super.doCreate();
        setupPlainVariables_Main_xjal();
    }

    private void setupPlainVariables_Main_xjal() {
        connector = new RLConnector(this);
        poleLengths = new ArrayList<>();
        trackLength = measureTrack();
    }

    @Override
    public void doStart() {
        super.doStart();
        decide.start();
    }

    @Override
    public void onDestroy() {
        decide.onDestroy();
        // ---- "On destroy", as typed in AnyLogic ----
        if (fault.equals("trace")) {
            traceln("On destroy at time " + time());
        }
        // ----
        super.onDestroy();
    }

    @Override
    public void onStartup() {
        super.onStartup();
        // ---- "On startup", as typed in AnyLogic ----
        if (fault.equals("startup")) {
            throw new IllegalArgumentException("the track is missing");
        }
        if (fault.equals("finishAtStartup")) {
            finishSimulation();
        }
        if (fault.equals("trace")) {
            traceln("On startup: pole length " + poleLength);
        }
        x = uniform(-0.05, 0.05);
        xDot = uniform(-0.05, 0.05);
        theta = uniform(-0.05, 0.05);
        thetaDot = uniform(-0.05, 0.05);
    }

    // ---- Functions ------------------------------------------------------------------------------
    /** The length of the track (the initial value of {@code trackLength}). */
    double measureTrack() {
        if (fault.equals("initialValue")) {
            throw new IllegalStateException("the track cannot be measured");
        }
        return 4.8;
    }

    // ---- Functions: the RLModel contract ------------------------------------------------------
    @Override
    public double[] getObservation() {
        return new double[] {x, xDot, theta, thetaDot};
    }

    @Override
    public void takeAction(RLAction action) {
        int push = action.asInt();
        if (actionNoise > 0 && connector.getRandom().nextDouble() < actionNoise) {
            push = 1 - push;
        }
        force = push == 1 ? 10.0 : -10.0;
    }

    @Override
    public double getReward() {
        double earned = reward;
        reward = 0;
        return earned;
    }

    @Override
    public boolean hasFinished() {
        return fallen;
    }

    @Override
    public Space getObservationSpace() {
        double inf = Double.POSITIVE_INFINITY;
        double thetaLimit = 12 * 2 * Math.PI / 360;
        return Spaces.box(new double[] {-4.8, -inf, -2 * thetaLimit, -inf}, new double[] {4.8, inf, 2 * thetaLimit, inf});
    }

    @Override
    public Space getActionSpace() {
        return Spaces.discrete(2);
    }

    /** One Euler step of 0.02 s of the cart-pole dynamics; the pole falls past 12 degrees or off the track. */
    void step() {
        double gravity = 9.8;
        double cartMass = 1.0;
        double poleMass = 0.1;
        double totalMass = cartMass + poleMass;
        double tau = 0.02;
        double cos = Math.cos(theta);
        double sin = Math.sin(theta);
        double poleMassLength = poleMass * poleLength;
        double temp = (force + poleMassLength * (thetaDot * thetaDot) * sin) / totalMass;
        double thetaAcc = (gravity * sin - cos * temp) / (poleLength * (4.0 / 3.0 - poleMass * (cos * cos) / totalMass));
        double xAcc = temp - poleMassLength * thetaAcc * cos / totalMass;
        x += tau * xDot;
        xDot += tau * xAcc;
        theta += tau * thetaDot;
        thetaDot += tau * thetaAcc;
        reward += 1.0;
        double thetaLimit = 12 * 2 * Math.PI / 360;
        fallen = x < -trackLength / 2 || x > trackLength / 2 || theta < -thetaLimit || theta > thetaLimit;
        if (fallen) {
            finishSimulation();
        }
    }
}
