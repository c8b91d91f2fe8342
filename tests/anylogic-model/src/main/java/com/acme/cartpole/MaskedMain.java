package com.acme.cartpole;

import com.alpyperl.connector.MaskedModel;
import com.alpyperl.connector.RLAction;
import com.anylogic.engine.Agent;
import com.anylogic.engine.AgentList;
import com.anylogic.engine.Engine;

/**
 * The cart-pole root with an action mask, for attach mode: near the ends of the track the cart may
 * not be pushed further out (past x = 0.5 no push right, past x = -0.5 no push left). The model
 * throws if a masked action ever reaches it.
 */
public class MaskedMain extends Main implements MaskedModel {
    private static final long serialVersionUID = -6427511201390185911L;

    public MaskedMain(Engine engine, Agent owner, AgentList<? extends Main> ownerPopulation) {
        super(engine, owner, ownerPopulation);
    }

    @Override
    public boolean[] getActionMask() {
        if (x > 0.5) {
            return new boolean[] {true, false};
        }
        if (x < -0.5) {
            return new boolean[] {false, true};
        }
        return null;
    }

    @Override
    public void takeAction(RLAction action) {
        boolean[] mask = getActionMask();
        if (mask != null && !mask[action.asInt()]) {
            throw new IllegalStateException("a masked action reached the model: " + action.asInt() + " at x = " + x);
        }
        super.takeAction(action);
    }
}
