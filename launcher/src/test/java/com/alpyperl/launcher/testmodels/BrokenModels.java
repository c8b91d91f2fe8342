package com.alpyperl.launcher.testmodels;

import com.alpyperl.connector.ModelParameter;
import com.alpyperl.connector.PlainJavaModel;
import com.alpyperl.connector.RLAction;

/** Model classes that a model folder must refuse, each for one reason. */
public final class BrokenModels {
    private BrokenModels() {
    }

    /** Does not implement PlainJavaModel. */
    public static class NotAModel {
        public void run() {
        }
    }

    /** Has no public constructor without arguments. */
    public static class NoDefaultConstructor extends Stub {
        public NoDefaultConstructor(int size) {
        }
    }

    /** Has a parameter of a type Python cannot set. */
    public static class UnsupportedParameter extends Stub {
        @ModelParameter
        public int[] values = {1, 2};
    }

    /** Has a static parameter. */
    public static class StaticParameter extends Stub {
        @ModelParameter
        public static int shared = 1;
    }

    /** Has a final parameter. */
    public static class FinalParameter extends Stub {
        @ModelParameter
        public final double fixed = 1;
    }

    /** A do-nothing model to extend. */
    public abstract static class Stub implements PlainJavaModel {
        @Override
        public void run() {
        }

        @Override
        public double[] getObservation() {
            return new double[0];
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
            return true;
        }
    }
}
