package com.alpyperl.testmodels;

import com.alpyperl.connector.ModelParameter;
import com.alpyperl.connector.PlainJavaModel;
import com.alpyperl.connector.RLAction;
import com.alpyperl.connector.RLConnector;
import com.alpyperl.connector.Space;
import com.alpyperl.connector.Spaces;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A model that misbehaves on purpose, for alpyperl's error tests. The parameter {@link #fault}
 * chooses what goes wrong and {@link #faultAtStep} when: step 0 is the start of the run (up to
 * the first decision, i.e. during {@code reset()}), step k the k-th {@code step()} call.
 *
 * <p>Faults: {@code none}; {@code startup} (run() throws before its first decision);
 * {@code endBeforeDecision} (run() returns before its first decision); {@code twoConnectors}
 * (run() creates a second RLConnector); {@code neverRequest} (run() waits forever for a signal
 * before its first decision); {@code takeAction}, {@code getObservation}, {@code getReward},
 * {@code hasFinished} (that method throws); {@code observationSize} (getObservation() returns one
 * value too many); {@code event} (an event between decisions throws); {@code stackOverflow}
 * (an event recurses without end); {@code loopForever} (an event spins in a busy loop until its
 * thread is interrupted: from Java 20 on a thread cannot be stopped, and a loop that heeds nothing
 * would burn a CPU for the rest of the test run); {@code sleepForever} (an event sleeps and ignores
 * interrupts); {@code computeUntilReleased} (an event computes, a busy loop that heeds no
 * interrupt, until the system property {@value #RELEASE}{@code =true}: a slow step whose length a
 * test decides); {@code swallowAbandon} (the
 * model catches everything requestAction() throws, including the signal that ends an abandoned
 * episode, and returns). Each fault strikes once per episode. With {@link #catchErrors} the model
 * catches and ignores the exceptions that requestAction() throws.
 *
 * <p>Without a fault the model makes {@link #maxSteps} decisions, each rewarded with 1, and then
 * terminates (or is truncated if {@link #terminate} is false). The observation is {@code [step,
 * first value of the last action, a random draw from the episode's seed]}; the spaces are a Box of
 * 3 values and Discrete(3). The system property {@value #THROW_IN_CONSTRUCTOR}{@code =true} makes
 * the constructor throw.
 *
 * <p>With {@link #print} not empty the model prints, every line starting with that text: {@code
 * "<print> starts"} in pieces when its run starts, {@code "<print> decision <k>"} in pieces on
 * System.out and {@code "<print> warning <k>"} on System.err after its k-th decision, and {@code
 * "<print> ends"} without a newline when its run ends, however it ends. With {@link
 * #printOnOtherThread}, a thread the model starts prints {@code "<print> not a model thread"}.
 */
public class FaultyModel implements PlainJavaModel {
    /** System property that makes the constructor throw while it is "true". */
    public static final String THROW_IN_CONSTRUCTOR = "alpyperl.testmodels.throwInConstructor";
    /** System property that ends the computation of the fault {@code computeUntilReleased} while it is "true". */
    public static final String RELEASE = "alpyperl.testmodels.release";
    /** How many runs have started, in this class loader. */
    public static final AtomicInteger RUNS_STARTED = new AtomicInteger();
    /** How many runs have executed their finally block, in this class loader. */
    public static final AtomicInteger RUNS_CLEANED_UP = new AtomicInteger();

    /** Which fault to commit (see the class comment). */
    @ModelParameter
    public String fault = "none";

    /** The step at which the fault strikes. */
    @ModelParameter
    public int faultAtStep = 0;

    /** Decisions per episode. */
    @ModelParameter
    public int maxSteps = 10;

    /** Whether the episode terminates after maxSteps decisions (else it is truncated). */
    @ModelParameter
    public boolean terminate = true;

    /** Whether the model catches and ignores the exceptions requestAction() throws (a bad habit). */
    @ModelParameter
    public boolean catchErrors = false;

    /** What the lines the model prints start with; empty: the model prints nothing. */
    @ModelParameter
    public String print = "";

    /** Whether a thread the model starts prints a line too (see the class comment). */
    @ModelParameter
    public boolean printOnOtherThread = false;

    private final RLConnector connector = new RLConnector(this);
    private final Object signal = new Object();
    private volatile long spins;

    private boolean struck;
    private int step;
    private double lastAction;
    private double draw;
    private double reward;
    private boolean finished;

    /** Creates the model; throws if the system property {@value #THROW_IN_CONSTRUCTOR} is true. */
    public FaultyModel() {
        if (Boolean.getBoolean(THROW_IN_CONSTRUCTOR)) {
            throw new IllegalStateException("FaultyModel constructor fault (" + THROW_IN_CONSTRUCTOR + "=true)");
        }
    }

    @Override
    public void run() {
        RUNS_STARTED.incrementAndGet();
        try {
            printStart();
            startUp();
            if (fault.equals("endBeforeDecision")) {
                return;
            }
            draw = connector.getRandom().nextDouble();
            while (step < maxSteps) {
                onEvent();
                if (!decide()) {
                    return;
                }
                reward += 1;
                printDecision();
            }
            finished = terminate;
        } finally {
            if (!print.isEmpty()) {
                System.out.print(print + " ends");
            }
            RUNS_CLEANED_UP.incrementAndGet();
        }
    }

    private void printStart() {
        if (print.isEmpty()) {
            return;
        }
        System.out.print(print);
        System.out.print(" start");
        System.out.println("s");
        if (printOnOtherThread) {
            Thread other = new Thread(() -> System.out.println(print + " not a model thread"));
            other.start();
            try {
                other.join();
            } catch (InterruptedException e) {
                throw new IllegalStateException("interrupted while waiting for the printing thread", e);
            }
        }
    }

    private void printDecision() {
        if (!print.isEmpty()) {
            System.out.print(print + " decision ");
            System.out.print(step);
            System.out.println();
            System.err.println(print + " warning " + step);
        }
    }

    /** Calls requestAction(); false if the fault "swallowAbandon" swallowed what it threw. */
    private boolean decide() {
        if (fault.equals("swallowAbandon")) {
            try {
                connector.requestAction();
                return true;
            } catch (Throwable swallowed) {
                return false;
            }
        }
        if (catchErrors) {
            try {
                connector.requestAction();
            } catch (RuntimeException ignored) {
                // a badly written model: it carries on
            }
            return true;
        }
        connector.requestAction();
        return true;
    }

    private void startUp() {
        switch (fault) {
            case "startup":
                throw new IllegalStateException("FaultyModel startup fault");
            case "twoConnectors":
                new RLConnector(this);
                break;
            case "neverRequest":
                awaitSignal();
                break;
            default:
                break;
        }
    }

    /** Model logic that runs before each decision; step 0 is before the first one. */
    private void onEvent() {
        if (step != faultAtStep) {
            return;
        }
        switch (fault) {
            case "event":
                throw new ArithmeticException("FaultyModel event fault at step " + step);
            case "stackOverflow":
                recurse(0);
                break;
            case "loopForever":
                spin();
                break;
            case "sleepForever":
                sleepIgnoringInterrupts();
                break;
            case "computeUntilReleased":
                computeUntilReleased();
                break;
            default:
                break;
        }
    }

    private int recurse(int depth) {
        return recurse(depth + 1) + 1;
    }

    private void spin() {
        while (spins >= 0 && !Thread.currentThread().isInterrupted()) {
            spins++;
        }
    }

    private void computeUntilReleased() {
        while (!Boolean.getBoolean(RELEASE)) {
            spins++;
        }
    }

    private void sleepIgnoringInterrupts() {
        while (true) {
            try {
                Thread.sleep(60_000);
            } catch (InterruptedException ignored) {
                // a badly written model: it sleeps on
            }
        }
    }

    private void awaitSignal() {
        synchronized (signal) {
            while (true) {
                try {
                    signal.wait();
                } catch (InterruptedException e) {
                    throw new IllegalStateException("interrupted while waiting for a signal", e);
                }
            }
        }
    }

    /** Whether the fault {@code name} strikes now; it strikes once per episode. */
    private boolean strikes(String name) {
        if (struck || !fault.equals(name) || step != faultAtStep) {
            return false;
        }
        struck = true;
        return true;
    }

    @Override
    public void takeAction(RLAction action) {
        step++;
        if (strikes("takeAction")) {
            throw new IllegalArgumentException("FaultyModel takeAction fault at step " + step + ", action " + action);
        }
        lastAction = action.toFlatArray()[0];
    }

    @Override
    public double[] getObservation() {
        if (strikes("getObservation")) {
            throw new UnsupportedOperationException("FaultyModel getObservation fault at step " + step);
        }
        if (strikes("observationSize")) {
            return new double[] {step, lastAction, draw, 0};
        }
        return new double[] {step, lastAction, draw};
    }

    @Override
    public double getReward() {
        if (strikes("getReward")) {
            throw new IllegalStateException("FaultyModel getReward fault at step " + step);
        }
        double earned = reward;
        reward = 0;
        return earned;
    }

    @Override
    public boolean hasFinished() {
        if (strikes("hasFinished")) {
            throw new IllegalStateException("FaultyModel hasFinished fault at step " + step);
        }
        return finished;
    }

    @Override
    public Space getObservationSpace() {
        return Spaces.box(-1e6, 1e6, 3);
    }

    @Override
    public Space getActionSpace() {
        return Spaces.discrete(3);
    }
}
