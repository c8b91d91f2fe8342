package com.anylogic.engine;

import java.util.ArrayList;

/** TEST DOUBLE of AnyLogic's agent population; only its name is used here. */
public class AgentList<T extends Agent> extends ArrayList<T> {
    private static final long serialVersionUID = 1L;
}
