package com.alpyperl.launcher.testmodels;

import com.alpyperl.connector.MaskedModel;
import com.alpyperl.connector.ModelParameter;
import com.alpyperl.connector.PlainJavaModel;
import com.alpyperl.connector.RLAction;
import com.alpyperl.connector.RLConnector;
import com.alpyperl.connector.Space;
import com.alpyperl.connector.Spaces;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A model with an action mask for the launcher's tests: Discrete(3) actions; at decision k the
 * action {@code k % 3} is masked. The observation is {@code [k, sum of actions]}; the reward of a
 * step is its action. With {@code noChoiceAt} = k, decision k masks every action.
 */
public class MaskedModel3 implements PlainJavaModel, MaskedModel {
    /** The actions applied, over all episodes (the launcher's class loader delegates to the test's). */
    public static final List<Integer> APPLIED = new CopyOnWriteArrayList<>();

    @ModelParameter
    public int maxSteps = 4;
    @ModelParameter
    public int noChoiceAt = -1;

    private final RLConnector connector = new RLConnector(this);
    private int decisions;
    private double sum;
    private double reward;

    @Override
    public void run() {
        for (decisions = 0; decisions < maxSteps; decisions++) {
            connector.requestAction();
        }
    }

    @Override
    public boolean[] getActionMask() {
        boolean[] mask = {true, true, true};
        if (decisions == noChoiceAt) {
            return new boolean[3];
        }
        mask[decisions % 3] = false;
        return mask;
    }

    @Override
    public void takeAction(RLAction action) {
        APPLIED.add(action.asInt());
        sum += action.asInt();
        reward += action.asInt();
    }

    @Override
    public double[] getObservation() {
        return new double[] {decisions, sum};
    }

    @Override
    public double getReward() {
        double earned = reward;
        reward = 0;
        return earned;
    }

    @Override
    public boolean hasFinished() {
        return decisions >= maxSteps;
    }

    @Override
    public Space getObservationSpace() {
        return Spaces.unboundedBox(2);
    }

    @Override
    public Space getActionSpace() {
        return Spaces.discrete(3);
    }
}
