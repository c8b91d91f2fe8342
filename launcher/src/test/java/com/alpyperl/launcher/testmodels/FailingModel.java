package com.alpyperl.launcher.testmodels;

import com.alpyperl.connector.ModelParameter;
import com.alpyperl.connector.PlainJavaModel;
import com.alpyperl.connector.RLAction;
import com.alpyperl.connector.RLConnector;

/**
 * A model that breaks in the way its {@code failIn} parameter says, at decision {@code failAt}
 * (0 = before or at the first decision): "run", "takeAction", "getObservation", "getReward",
 * "wrongSize" (an observation of 2 values instead of 1), "noConnector" (never creates one),
 * "noDecision" (ends before its first requestAction()); "" does not fail. Its spaces are left to
 * the caller: observation Box of 1 value, action Discrete(2).
 */
public class FailingModel implements PlainJavaModel {
    @ModelParameter
    public String failIn = "";
    @ModelParameter
    public int failAt = 0;
    @ModelParameter
    public int maxSteps = 3;

    private RLConnector connector;
    private int decisions;

    @Override
    public void run() {
        if (failIn.equals("noConnector")) {
            return;
        }
        connector = new RLConnector(this);
        if (failIn.equals("noDecision")) {
            return;
        }
        for (int step = 0; step < maxSteps; step++) {
            if (failIn.equals("run") && decisions == failAt) {
                throw new IllegalStateException("boom from run at decision " + decisions);
            }
            connector.requestAction();
            decisions++;
        }
    }

    @Override
    public double[] getObservation() {
        failIf("getObservation");
        return failIn.equals("wrongSize") && decisions == failAt ? new double[] {decisions, 0}
                : new double[] {decisions};
    }

    @Override
    public void takeAction(RLAction action) {
        failIf("takeAction");
    }

    @Override
    public double getReward() {
        failIf("getReward");
        return 0;
    }

    @Override
    public boolean hasFinished() {
        return false;
    }

    private void failIf(String method) {
        if (failIn.equals(method) && decisions == failAt) {
            throw new IllegalArgumentException("boom from " + method + " at decision " + decisions);
        }
    }
}
