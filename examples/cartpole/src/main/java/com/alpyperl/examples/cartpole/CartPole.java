package com.alpyperl.examples.cartpole;

import com.alpyperl.connector.Drawable;
import com.alpyperl.connector.ModelParameter;
import com.alpyperl.connector.PlainJavaModel;
import com.alpyperl.connector.RLAction;
import com.alpyperl.connector.RLConnector;
import com.alpyperl.connector.Space;
import com.alpyperl.connector.Spaces;
import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.geom.Ellipse2D;
import java.awt.geom.Line2D;
import java.awt.geom.Rectangle2D;

/**
 * The classic cart-pole balancing task, with the physics, thresholds, start states, reward and
 * 500-step limit of Gymnasium's {@code CartPole-v1}. A pole is hinged on a cart moving on a track;
 * each decision pushes the cart left (action 0) or right (action 1) for 0.02 s. The episode
 * terminates when the pole tilts more than 12 degrees or the cart leaves the track.
 *
 * <p>How an RL model is written: implement the contract (observation, action, reward, finished),
 * create one {@link RLConnector}, and call {@link RLConnector#requestAction()} where a decision is
 * needed. Here the spaces are defined in Java. {@link #drawFrame} draws the cart and its pole (as
 * Gymnasium's renderer does), for {@code render_mode="rgb_array"} and videos.
 */
public class CartPole implements PlainJavaModel, Drawable {
    private static final double GRAVITY = 9.8;
    private static final double CART_MASS = 1.0;
    private static final double POLE_MASS = 0.1;
    private static final double TOTAL_MASS = CART_MASS + POLE_MASS;
    private static final double FORCE = 10.0;
    private static final double TAU = 0.02;
    private static final double THETA_LIMIT = 12 * 2 * Math.PI / 360;
    private static final double X_LIMIT = 2.4;
    /**
     * The bound of both velocities in the observation space, in m/s and rad/s: twice what the
     * physics allows in an episode. The cart stays within 2.4 m of the centre, and the push and the
     * pole accelerate it by at most about 10.2 m/s²; the pole stays within 12 degrees, accelerated by
     * at most about 90 rad/s² (a pole of 0.1 m, the shortest allowed). From a start with speeds of at
     * most {@link #START_SPEED_LIMIT}, neither velocity can so exceed about 10.5 before the episode
     * ends. (Gymnasium's CartPole-v1 leaves them unbounded.)
     */
    private static final double VELOCITY_LIMIT = 20;
    /** The largest speeds (m/s, rad/s) an {@link #initialState} may give. */
    private static final double START_SPEED_LIMIT = 2;
    /** The range of {@link #poleLength} (half the pole's length), in metres. */
    private static final double MIN_POLE_LENGTH = 0.1;
    private static final double MAX_POLE_LENGTH = 10;

    // ---- drawing: Gymnasium's picture (600 x 400 pixels show the 4.8 m of track), in metres ----
    /** Colours of the picture, those of Gymnasium's CartPole renderer. */
    public static final Color CART_COLOR = Color.BLACK;
    public static final Color POLE_COLOR = new Color(202, 152, 101);
    public static final Color AXLE_COLOR = new Color(129, 132, 203);
    private static final double CART_WIDTH = 0.4;
    private static final double CART_HEIGHT = 0.24;
    private static final double POLE_WIDTH = 0.08;

    /** Half the pole's length, in metres, from 0.1 to 10. */
    @ModelParameter
    public double poleLength = 0.5;

    /** Decisions after which the episode is truncated. */
    @ModelParameter
    public int maxSteps = 500;

    /**
     * Start state "x,xDot,theta,thetaDot"; empty for Gymnasium's uniform draw in [-0.05, 0.05). It
     * must lie within the limits where an episode goes on (|x| at most 2.4 m, |theta| at most 12
     * degrees), with speeds of at most 2 m/s and 2 rad/s.
     */
    @ModelParameter
    public String initialState = "";

    /**
     * The share of episodes in which the model fails on purpose, throwing an exception at one of
     * its first 20 steps: a way to watch training survive model errors. 0 in normal use (then
     * nothing extra is drawn from the random numbers, and episodes stay those of CartPole-v1).
     */
    @ModelParameter
    public double failureRate = 0;

    private final RLConnector connector = new RLConnector(this);

    private double x;
    private double xDot;
    private double theta;
    private double thetaDot;
    private double force;
    private double reward;
    private boolean fallen;

    @Override
    public void run() {
        startState();
        int failAt = failureRate > 0 && connector.getRandom().nextDouble() < failureRate
                ? connector.getRandom().nextInt(20) : -1;
        for (int step = 0; step < maxSteps && !fallen; step++) {
            if (step == failAt) {
                throw new IllegalStateException("CartPole failed on purpose at step " + step + " (failureRate "
                        + failureRate + ")");
            }
            connector.requestAction(); // takeAction() sets the force
            advance();
            reward += 1.0;
        }
    }

    @Override
    public void takeAction(RLAction action) {
        force = action.asInt() == 1 ? FORCE : -FORCE;
    }

    @Override
    public double[] getObservation() {
        return new double[] {x, xDot, theta, thetaDot};
    }

    @Override
    public double getReward() {
        double earned = reward;
        reward = 0;
        return earned;
    }

    @Override
    public boolean hasFinished() {
        return fallen;
    }

    /**
     * Cart position and pole angle within twice the limits that end an episode (as Gymnasium's
     * CartPole-v1: the last step ends at most one step's travel beyond them), and both velocities
     * within {@link #VELOCITY_LIMIT}.
     */
    @Override
    public Space getObservationSpace() {
        return Spaces.box(new double[] {-2 * X_LIMIT, -VELOCITY_LIMIT, -2 * THETA_LIMIT, -VELOCITY_LIMIT},
                new double[] {2 * X_LIMIT, VELOCITY_LIMIT, 2 * THETA_LIMIT, VELOCITY_LIMIT});
    }

    @Override
    public Space getActionSpace() {
        return Spaces.discrete(2);
    }

    /**
     * Draws the track, the cart and the pole: the whole track (2 x 2.4 m) spans the width, the
     * track line lies a quarter of the height above the bottom, and the pole is {@code 2 *
     * poleLength} long, hinged at the axle a quarter of the cart's height above its centre.
     */
    @Override
    public void drawFrame(Graphics2D g, int width, int height) {
        double scale = width / (2 * X_LIMIT); // pixels per metre
        double trackY = height - height / 4.0;
        double cartX = width / 2.0 + x * scale;
        g.setColor(Color.BLACK);
        g.draw(new Line2D.Double(0, trackY, width, trackY));

        double cartWidth = CART_WIDTH * scale;
        double cartHeight = CART_HEIGHT * scale;
        g.setColor(CART_COLOR);
        g.fill(new Rectangle2D.Double(cartX - cartWidth / 2, trackY - cartHeight / 2, cartWidth, cartHeight));

        double poleWidth = POLE_WIDTH * scale;
        double poleLengthPixels = 2 * poleLength * scale;
        Graphics2D pole = (Graphics2D) g.create();
        pole.translate(cartX, trackY - cartHeight / 4); // the axle
        pole.rotate(theta); // y points down, so a positive angle leans the pole to the right, as theta does
        pole.setColor(POLE_COLOR);
        pole.fill(new Rectangle2D.Double(-poleWidth / 2, -poleLengthPixels + poleWidth / 2, poleWidth, poleLengthPixels));
        pole.setColor(AXLE_COLOR);
        pole.fill(new Ellipse2D.Double(-poleWidth / 2, -poleWidth / 2, poleWidth, poleWidth));
        pole.dispose();
    }

    private void startState() {
        if (!(poleLength >= MIN_POLE_LENGTH && poleLength <= MAX_POLE_LENGTH)) {
            throw new IllegalArgumentException("poleLength (half the pole's length) must be from " + MIN_POLE_LENGTH
                    + " to " + MAX_POLE_LENGTH + " m, got " + poleLength);
        }
        if (initialState.isEmpty()) {
            x = uniform();
            xDot = uniform();
            theta = uniform();
            thetaDot = uniform();
            return;
        }
        String[] parts = initialState.split(",");
        if (parts.length != 4) {
            throw new IllegalArgumentException("initialState needs 4 numbers x,xDot,theta,thetaDot; got " + initialState);
        }
        x = Double.parseDouble(parts[0].trim());
        xDot = Double.parseDouble(parts[1].trim());
        theta = Double.parseDouble(parts[2].trim());
        thetaDot = Double.parseDouble(parts[3].trim());
        if (!(Math.abs(x) <= X_LIMIT && Math.abs(theta) <= THETA_LIMIT && Math.abs(xDot) <= START_SPEED_LIMIT
                && Math.abs(thetaDot) <= START_SPEED_LIMIT)) {
            throw new IllegalArgumentException("initialState must lie where an episode goes on: |x| <= " + X_LIMIT
                    + " m, |theta| <= " + THETA_LIMIT + " rad (12 degrees), and speeds |xDot|, |thetaDot| <= "
                    + START_SPEED_LIMIT + "; got " + initialState);
        }
    }

    private double uniform() {
        return -0.05 + 0.1 * connector.getRandom().nextDouble();
    }

    /**
     * One explicit Euler step of the cart-pole dynamics (Barto, Sutton and Anderson, 1983), with
     * the operations grouped as in Gymnasium so that both compute bit-identical states.
     */
    private void advance() {
        double cos = Math.cos(theta);
        double sin = Math.sin(theta);
        double poleMassLength = POLE_MASS * poleLength;
        double temp = (force + poleMassLength * (thetaDot * thetaDot) * sin) / TOTAL_MASS;
        double thetaAcc = (GRAVITY * sin - cos * temp)
                / (poleLength * (4.0 / 3.0 - POLE_MASS * (cos * cos) / TOTAL_MASS));
        double xAcc = temp - poleMassLength * thetaAcc * cos / TOTAL_MASS;
        x += TAU * xDot;
        xDot += TAU * xAcc;
        theta += TAU * thetaDot;
        thetaDot += TAU * thetaAcc;
        fallen = x < -X_LIMIT || x > X_LIMIT || theta < -THETA_LIMIT || theta > THETA_LIMIT;
    }
}
