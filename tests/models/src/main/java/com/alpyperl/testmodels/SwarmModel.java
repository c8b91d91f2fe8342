package com.alpyperl.testmodels;

import com.alpyperl.connector.Drawable;
import com.alpyperl.connector.ModelParameter;
import com.alpyperl.connector.MultiAgentConnector;
import com.alpyperl.connector.MultiAgentModel;
import com.alpyperl.connector.PlainJavaModel;
import com.alpyperl.connector.RLAction;
import com.alpyperl.connector.RLAgent;
import com.alpyperl.connector.Space;
import com.alpyperl.connector.Spaces;
import java.awt.Color;
import java.awt.Graphics2D;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The multi-agent test model: {@code agents} walkers on a line, each deciding every tick whether to
 * step left, stay or step right (Discrete(3), actions -1, 0, +1), observing {@code [position, tick]}
 * and rewarded {@code -|position|}. Parameters turn on what tests look at: masks (a walker at
 * position 2 or more may not step right; without, its mask allows all), a second agent type ("scout", Box(3) observation,
 * MultiDiscrete([2, 3]) action, masked), an agent leaving or joining, the model finishing, one
 * crossing per agent instead of one per tick, misbehaviour (a wrong observation, a mask that
 * allows nothing, a request without decide(), walker_1 throwing in takeAction at tick 1), and
 * printing ({@code talk}: each walker in takeAction and getObservation, the root after each tick).
 * It draws itself: walker k (in the order they joined) is a black 10 x 10 square whose top left corner
 * is at x = width / 2 + 20 * position, y = 20 + 20 * k.
 */
public class SwarmModel implements PlainJavaModel, MultiAgentModel, Drawable {
    @ModelParameter public int agents = 3;
    @ModelParameter public int ticks = 10;
    @ModelParameter public boolean masks = false;
    @ModelParameter public int scouts = 0;
    @ModelParameter public int leaveAt = -1;
    @ModelParameter public int joinAt = -1;
    @ModelParameter public int finishAt = -1;
    @ModelParameter public boolean oneCrossingPerAgent = false;
    @ModelParameter public String misbehave = "";
    @ModelParameter public boolean talk = false;

    private MultiAgentConnector connector;
    private final List<Walker> walkers = new ArrayList<>();
    private int tick;

    @Override
    public List<String> getAgentTypes() {
        return Arrays.asList("walker", "scout");
    }

    @Override
    public Space getObservationSpace(String agentType) {
        return agentType.equals("walker") ? Spaces.box(-1e6, 1e6, 2) : Spaces.box(-1e6, 1e6, 3);
    }

    @Override
    public Space getActionSpace(String agentType) {
        return agentType.equals("walker") ? Spaces.discrete(3) : Spaces.multiDiscrete(2, 3);
    }

    @Override
    public boolean usesActionMask(String agentType) {
        return true; // what the walkers' mask forbids depends on the parameter "masks"; its layout never does
    }

    @Override
    public int getPossibleAgents(String agentType) {
        return agentType.equals("walker") ? 101 : 4;
    }

    @Override
    public boolean hasFinished() {
        return finishAt >= 0 && tick >= finishAt;
    }

    @Override
    public void run() {
        connector = new MultiAgentConnector(this);
        for (int i = 0; i < agents; i++) {
            walkers.add(new Walker(connector.getRandom().nextInt(5) - 2));
        }
        for (Walker walker : walkers) {
            walker.id = connector.addAgent("walker", walker);
        }
        List<Scout> scoutList = new ArrayList<>();
        for (int i = 0; i < scouts; i++) {
            Scout scout = new Scout();
            scout.id = connector.addAgent("scout", scout);
            scoutList.add(scout);
        }
        for (tick = 0; tick < ticks && !hasFinished(); tick++) {
            if (tick == leaveAt && !walkers.isEmpty()) {
                connector.removeAgent(walkers.remove(0).id);
            }
            if (tick == joinAt) {
                Walker joining = new Walker(0);
                joining.id = connector.addAgent("walker", 100, joining);
                walkers.add(joining);
            }
            for (Walker walker : walkers) {
                if (oneCrossingPerAgent) {
                    connector.requestActionNow(walker.id);
                } else {
                    connector.requestAction(walker.id);
                }
            }
            for (Scout scout : scoutList) {
                connector.requestAction(scout.id);
            }
            if (misbehave.equals("forget decide") && tick == 1) {
                return;
            }
            connector.decide();
            if (talk) {
                System.out.println("tick " + tick + " decided");
            }
        }
    }

    @Override
    public void drawFrame(Graphics2D g, int width, int height) {
        g.setColor(Color.BLACK);
        for (int k = 0; k < walkers.size(); k++) {
            g.fillRect(width / 2 + 20 * walkers.get(k).position, 20 + 20 * k, 10, 10);
        }
    }

    /** One walker on the line. */
    final class Walker implements RLAgent {
        String id;
        int position;
        double earned;

        Walker(int position) {
            this.position = position;
        }

        @Override
        public double[] getObservation() {
            if (talk) {
                System.err.println("observed at " + position);
            }
            if (misbehave.equals("short observation")) {
                return new double[] {position};
            }
            return new double[] {position, tick};
        }

        @Override
        public void takeAction(RLAction action) {
            if (misbehave.equals("throw in takeAction") && tick == 1 && id.equals("walker_1")) {
                throw new IllegalStateException("walker_1 cannot move");
            }
            if (talk) {
                System.out.print("moving ");
                System.out.println("by " + (action.asInt() - 1));
            }
            position += action.asInt() - 1;
            earned -= Math.abs(position);
        }

        @Override
        public double getReward() {
            double reward = earned;
            earned = 0;
            return reward;
        }

        @Override
        public boolean[] getActionMask() {
            if (misbehave.equals("empty mask")) {
                return new boolean[3];
            }
            return masks ? new boolean[] {true, true, position < 2} : null;
        }
    }

    /** A scout: its first choice is free, its second one (of 3) may not be 2. */
    final class Scout implements RLAgent {
        String id;
        int last = -1;

        @Override
        public double[] getObservation() {
            return new double[] {tick, last, 1};
        }

        @Override
        public void takeAction(RLAction action) {
            last = action.asIntArray()[1];
        }

        @Override
        public double getReward() {
            return 1;
        }

        @Override
        public boolean[] getActionMask() {
            return new boolean[] {true, true, true, true, false};
        }
    }
}
