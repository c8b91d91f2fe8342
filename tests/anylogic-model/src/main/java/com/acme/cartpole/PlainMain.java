package com.acme.cartpole;

import com.anylogic.engine.Agent;
import com.anylogic.engine.AgentList;
import com.anylogic.engine.Engine;

/** For alpyperl's error tests: a root agent that does not implement RLModel (its Implements field is empty). */
public class PlainMain extends Agent {
    public PlainMain(Engine engine, Agent owner, AgentList<? super PlainMain> ownerPopulation) {
        super(engine, owner, ownerPopulation);
    }
}
