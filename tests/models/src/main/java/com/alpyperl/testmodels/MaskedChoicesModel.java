package com.alpyperl.testmodels;

import com.alpyperl.connector.MaskedModel;
import com.alpyperl.connector.ModelParameter;
import com.alpyperl.connector.PlainJavaModel;
import com.alpyperl.connector.RLAction;
import com.alpyperl.connector.RLConnector;
import com.alpyperl.connector.Space;
import com.alpyperl.connector.Spaces;

/**
 * A model with an action mask for alpyperl's mask tests; its action space is left to Python
 * (Discrete or MultiDiscrete). Decision k's mask is the k-th of {@code masks} ("110|011": one
 * 0/1 per choice, the masks separated by '|', used in turn; "" or "-": null, every action valid).
 * The observation is {@code [k, sum of every action value taken]}; the run ends after {@code
 * maxSteps} decisions, finished. Tests select it by editing a copy of the model folder's descriptor.
 */
public class MaskedChoicesModel implements PlainJavaModel, MaskedModel {
    @ModelParameter
    public String masks = "";
    @ModelParameter
    public int maxSteps = 5;

    private final RLConnector connector = new RLConnector(this);
    private int decisions;
    private double sum;

    @Override
    public void run() {
        for (decisions = 0; decisions < maxSteps; decisions++) {
            connector.requestAction();
        }
    }

    @Override
    public boolean[] getActionMask() {
        if (masks.isEmpty()) {
            return null;
        }
        String[] all = masks.split("\\|");
        String mask = all[decisions % all.length];
        if (mask.equals("-")) {
            return null;
        }
        boolean[] valid = new boolean[mask.length()];
        for (int i = 0; i < valid.length; i++) {
            valid[i] = mask.charAt(i) == '1';
        }
        return valid;
    }

    @Override
    public void takeAction(RLAction action) {
        for (double value : action.toFlatArray()) {
            sum += value;
        }
    }

    @Override
    public double[] getObservation() {
        return new double[] {decisions, sum};
    }

    @Override
    public double getReward() {
        return 1;
    }

    @Override
    public boolean hasFinished() {
        return decisions >= maxSteps;
    }

    @Override
    public Space getObservationSpace() {
        return Spaces.unboundedBox(2);
    }
}
