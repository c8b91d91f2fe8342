package com.acme.cartpole;

import com.anylogic.engine.Agent;
import com.anylogic.engine.AgentList;
import com.anylogic.engine.Engine;

/** For alpyperl's error tests: a root agent that does not implement RLModel (its Implements field is empty). */
public class PlainMain extends Agent {
    private static final long serialVersionUID = -7570310232474164818L;

    public PlainMain(Engine engine, Agent owner, AgentList<? extends PlainMain> ownerPopulation) {
        super(engine, owner, ownerPopulation);
    }
}
