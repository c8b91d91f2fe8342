package com.alpyperl.launcher.testmodels;

import com.alpyperl.connector.ModelParameter;
import com.alpyperl.connector.PlainJavaModel;
import com.alpyperl.connector.RLAction;
import com.alpyperl.connector.RLConnector;
import com.alpyperl.connector.Space;
import com.alpyperl.connector.Spaces;

/**
 * A model that prints, for the tests of the model's output. Every line starts with {@code tag}.
 * At the start of a run it prints {@code "<tag> starts"} in three pieces on System.out; after
 * each of its {@code steps} decisions {@code "<tag> decision <k>"} in pieces on System.out and
 * {@code "<tag> warning <k>"} on System.err; at the end {@code "<tag> ends"} without a newline.
 * With {@code otherThread}, a thread the model starts prints {@code "<tag> not a model thread"}
 * at the start. Observation: Box(1) holding the decisions so far; action: Discrete(2).
 */
public class PrintingModel implements PlainJavaModel {
    @ModelParameter
    public String tag = "model";
    @ModelParameter
    public int steps = 2;
    @ModelParameter
    public boolean otherThread = false;

    private final RLConnector connector = new RLConnector(this);
    private int decisions;
    private boolean finished;

    @Override
    public void run() {
        System.out.print(tag);
        System.out.print(" starts");
        System.out.println();
        if (otherThread) {
            Thread other = new Thread(() -> System.out.println(tag + " not a model thread"));
            other.start();
            try {
                other.join();
            } catch (InterruptedException e) {
                throw new IllegalStateException(e);
            }
        }
        for (int k = 1; k <= steps; k++) {
            connector.requestAction();
            decisions = k;
            System.out.print(tag + " decision ");
            System.out.println(k);
            System.err.println(tag + " warning " + k);
        }
        finished = true;
        System.out.print(tag + " ends");
    }

    @Override
    public double[] getObservation() {
        return new double[] {decisions};
    }

    @Override
    public void takeAction(RLAction action) {
    }

    @Override
    public double getReward() {
        return 0;
    }

    @Override
    public boolean hasFinished() {
        return finished;
    }

    @Override
    public Space getObservationSpace() {
        return Spaces.unboundedBox(1);
    }

    @Override
    public Space getActionSpace() {
        return Spaces.discrete(2);
    }
}
