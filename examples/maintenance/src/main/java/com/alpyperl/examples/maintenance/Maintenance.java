package com.alpyperl.examples.maintenance;

import com.alpyperl.connector.MaskedModel;
import com.alpyperl.connector.ModelParameter;
import com.alpyperl.connector.PlainJavaModel;
import com.alpyperl.connector.RLAction;
import com.alpyperl.connector.RLConnector;
import com.alpyperl.connector.Space;
import com.alpyperl.connector.Spaces;
import java.util.Random;

/**
 * One machine, one decision per hour: produce, have it serviced, or wait. Some choices are not
 * always possible, and the model says so with an action mask ({@link MaskedModel}):
 * <ul>
 *   <li><b>produce</b> (0) needs raw material in the machine's buffer; it earns 1 and wears the
 *       machine by one level with probability {@link #WEAR_CHANCE};</li>
 *   <li><b>service</b> (1) needs the technician, who is on site in {@link #TECHNICIAN_CHANCE} of the
 *       hours, and a machine with some wear; it costs {@link #SERVICE_COST} and the machine is as new;</li>
 *   <li><b>wait</b> (2) is always possible.</li>
 * </ul>
 * A machine that reaches {@link #MAX_WEAR} breaks down: its repair costs {@link #REPAIR_COST} and
 * takes {@link #repairHours} hours, in which nothing is decided. Material arrives each hour with
 * probability {@link #MATERIAL_CHANCE}, up to {@link #BUFFER} units. The episode is truncated after
 * {@link #hours} hours.
 *
 * <p>The observation is {@code [wear / MAX_WEAR, material / BUFFER, technician on site, hours left / hours]}.
 * A simple rule ({@code maintenance.py}: service from wear 3 on when the technician is there, else
 * produce) earns far more than random valid choices.
 */
public class Maintenance implements PlainJavaModel, MaskedModel {
    /** The actions. */
    public static final int PRODUCE = 0;
    public static final int SERVICE = 1;
    public static final int WAIT = 2;
    /** The wear level at which the machine breaks down. */
    public static final int MAX_WEAR = 6;
    /** How many units of material the machine's buffer holds. */
    public static final int BUFFER = 3;
    public static final double WEAR_CHANCE = 0.35;
    public static final double TECHNICIAN_CHANCE = 0.5;
    public static final double MATERIAL_CHANCE = 0.8;
    public static final double SERVICE_COST = 1;
    public static final double REPAIR_COST = 10;

    /** Hours after which the episode is truncated. */
    @ModelParameter
    public int hours = 200;

    /** Hours a breakdown's repair takes. */
    @ModelParameter
    public int repairHours = 8;

    private final RLConnector connector = new RLConnector(this);
    private final Random random = connector.getRandom();

    private int hour;
    private int wear;
    private int material;
    private boolean technician;
    private double reward;
    /** The return so far. */
    private double earned;

    @Override
    public void run() {
        material = 1;
        for (hour = 0; hour < hours; hour++) {
            technician = random.nextDouble() < TECHNICIAN_CHANCE;
            connector.requestAction(); // takeAction() produces, services or waits
            if (wear >= MAX_WEAR) { // broken: repaired, with nothing to decide meanwhile
                earn(-REPAIR_COST);
                wear = 0;
                for (int h = 0; h < repairHours && hour + 1 < hours; h++) {
                    hour++;
                    materialArrives();
                }
            }
            materialArrives();
        }
    }

    private void materialArrives() {
        if (material < BUFFER && random.nextDouble() < MATERIAL_CHANCE) {
            material++;
        }
    }

    @Override
    public boolean[] getActionMask() {
        return new boolean[] {material > 0, technician && wear > 0, true};
    }

    /**
     * Evaluation without Python: runs {@code args[0]} episodes (default 10) with the policy given by
     * {@code -Dalpyperl.policy=maintenance.onnx} and prints each return.
     */
    public static void main(String[] args) {
        int episodes = args.length > 0 ? Integer.parseInt(args[0]) : 10;
        double total = 0;
        for (int episode = 0; episode < episodes; episode++) {
            Maintenance machine = new Maintenance();
            machine.run();
            System.out.println("episode " + episode + ": return " + machine.earned);
            total += machine.earned;
        }
        System.out.printf("mean: %.1f per episode%n", total / episodes);
    }

    @Override
    public void takeAction(RLAction action) {
        if (!getActionMask()[action.asInt()]) { // never happens: masked actions are refused or never chosen
            throw new IllegalStateException("action " + action.asInt() + " is masked now");
        }
        switch (action.asInt()) {
            case PRODUCE:
                material--;
                earn(1);
                if (random.nextDouble() < WEAR_CHANCE) {
                    wear++;
                }
                break;
            case SERVICE:
                earn(-SERVICE_COST);
                wear = 0;
                break;
            default: // WAIT
                break;
        }
    }

    @Override
    public double[] getObservation() {
        return new double[] {(double) wear / MAX_WEAR, (double) material / BUFFER, technician ? 1 : 0,
                (double) (hours - hour) / hours};
    }

    @Override
    public double getReward() {
        double since = reward;
        reward = 0;
        return since;
    }

    private void earn(double amount) {
        reward += amount;
        earned += amount;
    }

    @Override
    public boolean hasFinished() {
        return false;
    }

    @Override
    public Space getObservationSpace() {
        return Spaces.box(0, 1, 4);
    }

    @Override
    public Space getActionSpace() {
        return Spaces.discrete(3);
    }
}
