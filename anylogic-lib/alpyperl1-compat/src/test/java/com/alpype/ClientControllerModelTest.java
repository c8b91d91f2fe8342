package com.alpype;

import static org.junit.Assert.assertArrayEquals;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertNull;
import static org.junit.Assert.assertSame;
import static org.junit.Assert.assertTrue;

import com.alpyperl.connector.Space;
import com.alpyperl.connector.Spaces;
import com.anylogic.engine.Agent;
import com.anylogic.engine.Engine;
import org.junit.Test;

/** The 1.x root agent seen through alpyperl's connector: observations, boxing, spaces, the RNG. */
public class ClientControllerModelTest {

    /** A 1.x root agent that records the actions it gets. */
    public static final class Root extends Agent implements ALPypeRLClientController {
        private static final long serialVersionUID = 1L;
        final ALPypeRLConnector connector;
        RLAction taken;

        Root() {
            super(new Engine(), null, null);
            connector = new ALPypeRLConnector(getEngine(), this, null);
        }

        @Override
        public void takeAction(RLAction action) {
            taken = action;
        }

        @Override
        public Number[] getObservation() {
            return new Number[] {1, 2.5f, 3L};
        }

        @Override
        public double getReward() {
            return 0.5;
        }

        @Override
        public boolean hasFinished() {
            return true;
        }
    }

    private static com.alpyperl.connector.RLAction action(Space space, double... values) {
        return new com.alpyperl.connector.RLAction(space, values);
    }

    @Test
    public void actionsAreBoxedAs1xBoxesThem() {
        Root root = new Root();
        ClientControllerModel model = new ClientControllerModel(root.connector);
        model.takeAction(action(Spaces.discrete(2), 1));
        assertArrayEquals(new Number[] {1}, root.taken.getActions());
        model.takeAction(action(Spaces.box(-1, 1), 0.5));
        assertArrayEquals(new Number[] {0.5}, root.taken.getActions());
        Space mixed = Spaces.tuple(Spaces.box(-1, 0), Spaces.discrete(2), Spaces.multiDiscrete(3, 3),
                Spaces.dict().put("b", Spaces.multiBinary(2)).put("a", Spaces.box(0, 1, 2)).build());
        model.takeAction(action(mixed, -0.5, 1, 2, 0, 1, 0, 0.25, 0.75));
        assertArrayEquals(new Number[] {-0.5, 1, 2, 0, 1, 0, 0.25, 0.75}, root.taken.getActions());
        assertEquals(Double.valueOf(-0.5), root.taken.getDouble(0));
        assertEquals(Integer.valueOf(1), root.taken.getInt(1));
        assertTrue(root.connector.getAction() == root.taken);
    }

    @Test
    public void observationsRewardAndEndComeFromTheRootAgent() {
        Root root = new Root();
        ClientControllerModel model = new ClientControllerModel(root.connector);
        assertArrayEquals(new double[] {1, 2.5, 3}, model.getObservation(), 0);
        assertEquals(0.5, model.getReward(), 0);
        assertTrue(model.hasFinished());
    }

    @Test
    public void theSpacesDeclaredOnTheConnectorUnlessTheyAreLeftToPython() {
        Root root = new Root();
        ClientControllerModel model = new ClientControllerModel(root.connector);
        assertNull(model.getObservationSpace());
        root.connector.observationSpace = ObservationSpace.init().add(GymSpaces.box(0.0, 1.0)).build();
        root.connector.actionSpace = ActionSpace.init().add(GymSpaces.discrete(3)).build();
        assertEquals(Spaces.box(0, 1), model.getObservationSpace());
        assertEquals(Spaces.discrete(3), model.getActionSpace());
        root.connector.setSpaces = false;
        assertNull(model.getObservationSpace());
        assertNull(model.getActionSpace());
    }

    @Test
    public void theRandomGeneratorIsTheEpisodesUnlessTheModelSetsASeed() {
        Root root = new Root();
        assertEquals(root.connector._seed_DefaultValue_xjal(), root.connector.getSeed());
        assertSame(root.connector.connector().getRandom(), root.connector.getRNG());
        root.connector.set_seed(42);
        assertEquals(new java.util.Random(42).nextLong(), root.connector.getRNG().nextLong());
        root.connector.set_seed(42);
        assertEquals(new java.util.Random(42).nextLong(), root.connector.getRNG().nextLong());
    }
}
