package com.acme.swarm;

import com.alpyperl.connector.MultiAgentConnector;
import com.alpyperl.connector.MultiAgentModel;
import com.alpyperl.connector.RLAction;
import com.alpyperl.connector.RLAgent;
import com.alpyperl.connector.Space;
import com.alpyperl.connector.Spaces;
import com.anylogic.engine.Agent;
import com.anylogic.engine.AgentList;
import com.anylogic.engine.Engine;
import com.anylogic.engine.EventTimeout;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * A multi-agent model shaped like AnyLogic's generated code, for attach mode: the root agent
 * implements {@link MultiAgentModel} (its "Implements" field), its variable {@code connector = new
 * MultiAgentConnector(this)} joins {@code walkers} walkers, and the cyclic event {@code tick} (every
 * time unit from 1) makes every walker request an action and then calls {@code connector.decide()}:
 * one crossing per tick. A walker on a line observes {@code [position, time]}, steps left, stays or
 * steps right (Discrete(3)), may not step right from position 2 or more (its action mask), and is
 * rewarded {@code -|position|}. The stop time is {@code ticks}.
 */
public class Swarm extends Agent implements MultiAgentModel {
    private static final long serialVersionUID = 2786220311093522419L;

    // ---- Parameters ---------------------------------------------------------------------------
    public int walkers;

    @Override
    public void setParametersToDefaultValues() {
        super.setParametersToDefaultValues();
        walkers = 3;
    }

    @Override
    public boolean setParameter(String _name_xjal, Object _value_xjal, boolean _callOnChange_xjal) {
        if (_name_xjal.equals("walkers")) {
            walkers = ((Number) _value_xjal).intValue();
            return true;
        }
        return super.setParameter(_name_xjal, _value_xjal, _callOnChange_xjal);
    }

    @Override
    @SuppressWarnings("unchecked")
    public <T> T getParameter(String _name_xjal) {
        return _name_xjal.equals("walkers") ? (T) (Integer) walkers : super.getParameter(_name_xjal);
    }

    @Override
    public String[] getParameterNames() {
        return new String[] {"walkers"};
    }

    // ---- Plain variables ----------------------------------------------------------------------
    public MultiAgentConnector connector;
    public List<Walker> walkerList;

    // ---- Events -------------------------------------------------------------------------------
    public EventTimeout tick = new EventTimeout(this);

    @Override
    public EventTimeout.Mode getModeOf(EventTimeout _e) {
        return _e == tick ? EventTimeout.Mode.EVENT_TIMEOUT_MODE_CYCLIC : super.getModeOf(_e);
    }

    @Override
    public double getFirstOccurrenceTime(EventTimeout _e) {
        return _e == tick ? 1 : super.getFirstOccurrenceTime(_e);
    }

    @Override
    public double evaluateTimeoutOf(EventTimeout _e) {
        return _e == tick ? 1 : super.evaluateTimeoutOf(_e);
    }

    @Override
    public void executeActionOf(EventTimeout _e) {
        if (_e == tick) {
            // ---- the event's action, as typed in AnyLogic ----
            for (Walker walker : walkerList) {
                connector.requestAction(walker.id);
            }
            connector.decide();
            // ----
            return;
        }
        super.executeActionOf(_e);
    }

    // ---- Generated constructor and life cycle -------------------------------------------------
    public Swarm(Engine engine, Agent owner, AgentList<? extends Swarm> ownerPopulation) {
        super(engine, owner, ownerPopulation);
    }

    @Override
    public void doCreate() {
        super.doCreate();
        connector = new MultiAgentConnector(this);
        walkerList = new ArrayList<>();
    }

    @Override
    public void doStart() {
        super.doStart();
        tick.start();
    }

    @Override
    public void onDestroy() {
        tick.onDestroy();
        super.onDestroy();
    }

    @Override
    public void onStartup() {
        super.onStartup();
        // ---- "On startup", as typed in AnyLogic ----
        for (int i = 0; i < walkers; i++) {
            Walker walker = new Walker((int) Math.floor(uniform(-2, 3)));
            walker.id = connector.addAgent("walker", walker);
            walkerList.add(walker);
        }
    }

    // ---- Functions: the MultiAgentModel contract ------------------------------------------------
    @Override
    public List<String> getAgentTypes() {
        return Collections.singletonList("walker");
    }

    /** With -Dacme.swarm.spacesInPython=true the walkers leave their spaces to Python (both getters return null). */
    private static final boolean SPACES_IN_PYTHON = Boolean.getBoolean("acme.swarm.spacesInPython");

    @Override
    public Space getObservationSpace(String agentType) {
        return SPACES_IN_PYTHON ? null : Spaces.box(-1e6, 1e6, 2);
    }

    @Override
    public Space getActionSpace(String agentType) {
        return SPACES_IN_PYTHON ? null : Spaces.discrete(3);
    }

    @Override
    public boolean usesActionMask(String agentType) {
        return true;
    }

    @Override
    public int getPossibleAgents(String agentType) {
        return 10;
    }

    @Override
    public boolean hasFinished() {
        return false;
    }

    /** One walker on the line. */
    public final class Walker implements RLAgent {
        String id;
        int position;
        double earned;

        Walker(int position) {
            this.position = position;
        }

        @Override
        public double[] getObservation() {
            return new double[] {position, time()};
        }

        @Override
        public boolean[] getActionMask() {
            return new boolean[] {true, true, position < 2};
        }

        @Override
        public void takeAction(RLAction action) {
            position += action.asInt() - 1;
            earned -= Math.abs(position);
        }

        @Override
        public double getReward() {
            double reward = earned;
            earned = 0;
            return reward;
        }
    }
}
