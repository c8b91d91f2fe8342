package com.alpyperl.examples.jobshop;

import com.alpyperl.connector.ModelParameter;
import com.alpyperl.connector.MultiAgentConnector;
import com.alpyperl.connector.MultiAgentModel;
import com.alpyperl.connector.PlainJavaModel;
import com.alpyperl.connector.RLAction;
import com.alpyperl.connector.RLAgent;
import com.alpyperl.connector.Space;
import com.alpyperl.connector.Spaces;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;

/**
 * A job shop with several machines, each a deciding agent (type "machine"). Jobs of three classes
 * arrive every tick into three queues of limited room (a job that finds its queue full is lost).
 * A machine that is idle decides which queue to take its next job from, or to stay idle for a
 * tick. Machine m is fast (1 tick) at class m mod 3, slow (3 ticks) at class m+1 mod 3 and cannot
 * do class m+2 mod 3; its action mask forbids that class and every empty queue. A machine earns
 * 1 for each job it finishes. Machines that are idle at the same tick decide together: one
 * crossing to Python per tick.
 *
 * <p>Observation of a machine: the three queue lengths (as a share of the room), its speed at
 * each class (1 / processing time, 0 where it cannot) and the elapsed share of the episode.
 * Action: Discrete(4), a class 0..2 or 3 = stay idle.
 */
public final class JobShop implements PlainJavaModel, MultiAgentModel {
    /** How many classes of jobs (and queues) there are. */
    public static final int CLASSES = 3;
    /** The action "stay idle for a tick". */
    public static final int IDLE = CLASSES;

    @ModelParameter public int machines = 4;
    @ModelParameter public int ticks = 100;
    @ModelParameter public double arrivalRate = 0.9;
    @ModelParameter public int queueRoom = 10;

    private final int[] queues = new int[CLASSES];
    private int tick;
    private int lost;
    private int finished;

    @Override
    public List<String> getAgentTypes() {
        return Collections.singletonList("machine");
    }

    @Override
    public Space getObservationSpace(String agentType) {
        return Spaces.box(0, 1, 2 * CLASSES + 1);
    }

    @Override
    public Space getActionSpace(String agentType) {
        return Spaces.discrete(CLASSES + 1);
    }

    @Override
    public boolean usesActionMask(String agentType) {
        return true;
    }

    /** At most 64 machines ({@code machines}): RLlib wants to know every agent that may appear. */
    @Override
    public int getPossibleAgents(String agentType) {
        return 64;
    }

    @Override
    public boolean hasFinished() {
        return false; // the shift ends with the run: a time limit, so a truncation
    }

    @Override
    public void run() {
        MultiAgentConnector connector = new MultiAgentConnector(this);
        Random random = connector.getRandom();
        List<Machine> all = new ArrayList<>();
        for (int m = 0; m < machines; m++) {
            Machine machine = new Machine(m);
            machine.id = connector.addAgent("machine", m, machine);
            all.add(machine);
        }
        for (tick = 0; tick < ticks; tick++) {
            for (int c = 0; c < CLASSES; c++) {
                int arriving = poisson(random, arrivalRate);
                int room = queueRoom - queues[c];
                queues[c] += Math.min(arriving, room);
                lost += Math.max(0, arriving - room);
            }
            for (Machine machine : all) {
                if (machine.busyUntil <= tick) {
                    machine.finishJob();
                    connector.requestAction(machine.id);
                }
            }
            connector.decide(); // every idle machine at once; their choices are applied now
        }
    }

    /**
     * Evaluation without Python: runs {@code episodes} episodes (first argument, default 10) with the
     * machines' policy, {@code -Dalpyperl.policy=policy.onnx} (exported with {@code alpyperl export
     * --module-id machine}), and prints the jobs finished per episode and their mean.
     */
    public static void main(String[] args) {
        int episodes = args.length > 0 ? Integer.parseInt(args[0]) : 10;
        double total = 0;
        for (int episode = 0; episode < episodes; episode++) {
            JobShop shop = new JobShop();
            shop.run();
            System.out.println("episode " + episode + ": " + shop.finished + " jobs finished, " + shop.lost + " lost");
            total += shop.finished;
        }
        System.out.printf("mean: %.1f jobs finished per episode%n", total / episodes);
    }

    /** Jobs finished so far. */
    public int getFinished() {
        return finished;
    }

    /** Jobs lost so far because their queue was full. */
    public int getLost() {
        return lost;
    }

    private static int poisson(Random random, double rate) {
        double limit = Math.exp(-rate);
        double product = random.nextDouble();
        int count = 0;
        while (product > limit) {
            product *= random.nextDouble();
            count++;
        }
        return count;
    }

    /** The processing time of class {@code c} on machine {@code m} in ticks, 0 if it cannot do it. */
    static int processingTime(int m, int c) {
        int offset = Math.floorMod(c - m, CLASSES);
        return offset == 0 ? 1 : offset == 1 ? 3 : 0;
    }

    /** One machine: a deciding agent. */
    final class Machine implements RLAgent {
        final int index;
        String id;
        int busyUntil;
        int jobClass = -1;
        double earned;

        Machine(int index) {
            this.index = index;
        }

        void finishJob() {
            if (jobClass >= 0) {
                earned += 1;
                finished++;
                jobClass = -1;
            }
        }

        @Override
        public double[] getObservation() {
            double[] observation = new double[2 * CLASSES + 1];
            for (int c = 0; c < CLASSES; c++) {
                observation[c] = queues[c] / (double) queueRoom;
                int time = processingTime(index, c);
                observation[CLASSES + c] = time == 0 ? 0 : 1.0 / time;
            }
            observation[2 * CLASSES] = Math.min(1, tick / (double) ticks);
            return observation;
        }

        @Override
        public boolean[] getActionMask() {
            boolean[] mask = new boolean[CLASSES + 1];
            for (int c = 0; c < CLASSES; c++) {
                mask[c] = queues[c] > 0 && processingTime(index, c) > 0;
            }
            mask[IDLE] = true;
            return mask;
        }

        @Override
        public void takeAction(RLAction action) {
            int choice = action.asInt();
            if (choice == IDLE) {
                busyUntil = tick + 1;
                return;
            }
            if (processingTime(index, choice) == 0) { // its mask always forbids this class: never chosen
                throw new IllegalStateException(id + " chose class " + choice + ", which its action mask forbids");
            }
            if (queues[choice] == 0) {
                // Machines deciding together each saw the queue before any of them took from it: an earlier
                // one took its last job. This one waits for a tick.
                busyUntil = tick + 1;
                return;
            }
            queues[choice]--;
            jobClass = choice;
            busyUntil = tick + processingTime(index, choice);
        }

        @Override
        public double getReward() {
            double reward = earned;
            earned = 0;
            return reward;
        }
    }
}
