package com.alpyperl.examples.inventory;

import com.alpyperl.connector.Drawable;
import com.alpyperl.connector.ModelParameter;
import com.alpyperl.connector.PlainJavaModel;
import com.alpyperl.connector.RLAction;
import com.alpyperl.connector.RLConnector;
import java.awt.Color;
import java.awt.Font;
import java.awt.Graphics2D;
import java.awt.geom.Rectangle2D;
import java.util.Random;

/**
 * A shop's warehouse that stocks three products and replenishes them from a supplier: a
 * discrete-event model of the kind usually built in AnyLogic, written in plain Java.
 *
 * <p><b>Events</b> (model time in days; day 0 is a Monday, starting at midnight):
 * <ul>
 * <li><i>review</i>, every day at 0:00: the nightly replenishment run. A decision point.</li>
 * <li><i>store opens</i>, every day at 8:00: customers arrive until 20:00 as a Poisson process
 *     whose rate depends on the day of the week.</li>
 * <li><i>customer arrives</i>: buys 1 to {@link #maxOrderSize} units of one product, chosen by
 *     {@link #productMix}. What is not in stock is backordered, up to the {@link #capacity} of the
 *     order book (the rest is a lost sale). When the purchase empties the shelf
 *     of a product, a <i>stock-out review</i> follows at once: a decision point at an irregular time.</li>
 * <li><i>delivery arrives</i>: an order placed at a decision reaches the warehouse after a random
 *     lead time (triangular, {@link #leadTimeMean} days on average); it first serves the backlog.</li>
 * </ul>
 *
 * <p><b>Decision</b>: at each review the policy chooses, per product, how many batches of
 * {@link #orderBatch} units to order (cut to the room left within {@link #capacity}). <b>Reward</b>:
 * minus the costs since the previous decision (holding and backlog costs per unit and day, a fixed
 * cost per order line, a cost per unit of lost sales). Stocks, orders and back-orders stay within
 * {@link #capacity}, and time within {@link #horizonDays}: the bounds of the observation space.
 * The spaces are defined in Python ({@code inventory.py}), so {@link #getObservationSpace()} and
 * {@link #getActionSpace()} keep their defaults (null).
 *
 * <p>The episode ends at {@link #horizonDays}, as a truncation: a warehouse has no terminal state.
 * {@link #drawFrame} shows the stock of each product as bars, for {@code render_mode="rgb_array"}.
 */
public class InventoryModel implements PlainJavaModel, Drawable {
    /** Number of products; the spaces in inventory.py have one entry per product. */
    static final int PRODUCTS = 3;
    private static final double HOUR = 1.0 / 24;
    private static final double OPENING_HOUR = 8;
    private static final double CLOSING_HOUR = 20;
    /** Demand of each day of the week relative to the average day, Monday first. */
    private static final double[] WEEKDAY_FACTOR = {0.8, 0.9, 0.9, 1.0, 1.2, 1.5, 0.7};
    private static final String[] WEEKDAYS = {"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"};
    private static final String[] PRODUCT_NAMES = {"A", "B", "C"};
    /** Colours of the bars: on hand, on order, backlog. */
    public static final Color ON_HAND_COLOR = new Color(46, 139, 87);
    public static final Color ON_ORDER_COLOR = new Color(70, 130, 180);
    public static final Color BACKLOG_COLOR = new Color(205, 55, 55);

    /** What caused a decision; reported in the observation as {@code trigger}. */
    static final int DAILY_REVIEW = 0;
    static final int STOCKOUT_REVIEW = 1;

    // ---- parameters (settable from Python with env_params) ------------------------------------

    /** Customers per day, on average over the week. */
    @ModelParameter
    public double demandRate = 30;

    /** The largest purchase of a customer, in units; purchases are uniform in 1..maxOrderSize. */
    @ModelParameter
    public int maxOrderSize = 4;

    /** The share of customers that buy each product, comma separated (normalised to sum 1). */
    @ModelParameter
    public String productMix = "0.5,0.3,0.2";

    /** Mean supplier lead time in days; lead times are triangular between half and 1.5 times it. */
    @ModelParameter
    public double leadTimeMean = 3;

    /** Units in one batch: the action's order level times this is the quantity ordered. */
    @ModelParameter
    public int orderBatch = 10;

    /** Units of each product on the shelf at the start. */
    @ModelParameter
    public int initialStock = 60;

    /** Cost of keeping one unit in stock for one day. */
    @ModelParameter
    public double holdingCost = 1;

    /** Cost of one backordered unit per day that the customer waits. */
    @ModelParameter
    public double backlogCost = 10;

    /** Fixed cost of each order line (one product in one order). */
    @ModelParameter
    public double orderCost = 25;

    /** Length of an episode in days. */
    @ModelParameter
    public double horizonDays = 28;

    /**
     * Units of each product the warehouse holds: on hand and on order together (the supplier
     * delivers only what fits, so an order is cut to the room left), and on its order book of
     * back-orders (what a customer asks beyond that is a lost sale).
     */
    @ModelParameter
    public int capacity = 2000;

    /** Cost of each unit a customer asked for that neither the shelf nor the order book could take. */
    @ModelParameter
    public double lostSaleCost = 50;

    /** Whether a product running out of stock triggers an extra decision at once. */
    @ModelParameter
    public boolean stockoutReviews = true;

    // ---- state ----------------------------------------------------------------------------------

    private final RLConnector connector = new RLConnector(this);
    /**
     * Two random streams, both seeded from the episode's generator so that a seed replays an
     * episode: customers draw from one, the supplier from the other. Customers then come exactly
     * alike whatever the policy orders (common random numbers), which makes policies comparable.
     */
    private final Random customerRandom = new Random(connector.getRandom().nextLong());
    private final Random supplierRandom = new Random(connector.getRandom().nextLong());
    private final EventQueue events = new EventQueue();

    private final double[] onHand = new double[PRODUCTS];
    private final double[] onOrder = new double[PRODUCTS];
    private final double[] backlog = new double[PRODUCTS];
    private double[] mixCumulative;
    private int trigger;
    /** Costs since the last decision, and the model time up to which they are counted. */
    private double cost;
    private double costCountedUntil;

    @Override
    public void run() {
        checkParameters();
        for (int p = 0; p < PRODUCTS; p++) {
            onHand[p] = initialStock;
        }
        events.scheduleAt(0, this::review);
        events.scheduleAt(OPENING_HOUR * HOUR, this::storeOpens);

        // The simulation loop: stock levels change only at events, so costs accrue linearly between them.
        while (events.nextTime() < horizonDays) {
            accrueCostsUntil(events.nextTime());
            events.runNext();
        }
        accrueCostsUntil(horizonDays); // the last getReward() reports the costs up to the horizon
        events.advanceTo(horizonDays);
    }

    // ---- events ---------------------------------------------------------------------------------

    /** The nightly replenishment run: a decision, then the same again tomorrow. */
    private void review() {
        decide(DAILY_REVIEW);
        events.scheduleIn(1, this::review);
    }

    /** Opens the store for today; customers come until closing time. */
    private void storeOpens() {
        scheduleNextCustomer();
        events.scheduleIn(1, this::storeOpens);
    }

    private void customerArrives() {
        int product = pickProduct();
        int units = 1 + customerRandom.nextInt(maxOrderSize);
        boolean hadStock = onHand[product] > 0;
        double sold = Math.min(units, onHand[product]);
        double backordered = Math.min(units - sold, capacity - backlog[product]);
        onHand[product] -= sold;
        backlog[product] += backordered;
        cost += lostSaleCost * (units - sold - backordered);
        if (hadStock && onHand[product] == 0 && stockoutReviews) {
            decide(STOCKOUT_REVIEW);
        }
        scheduleNextCustomer();
    }

    private void deliveryArrives(int product, double units) {
        onOrder[product] -= units;
        double toBacklog = Math.min(units, backlog[product]);
        backlog[product] -= toBacklog;
        onHand[product] += units - toBacklog;
    }

    /** Customers arrive as a Poisson process while the store is open (memoryless, so it may stop at closing). */
    private void scheduleNextCustomer() {
        double now = events.now();
        int day = (int) Math.floor(now);
        double perDay = demandRate * WEEKDAY_FACTOR[day % 7] * 24 / (CLOSING_HOUR - OPENING_HOUR);
        if (perDay <= 0) {
            return;
        }
        double next = now + exponential(customerRandom, perDay);
        if (next < day + CLOSING_HOUR * HOUR) {
            events.scheduleAt(next, this::customerArrives);
        }
    }

    // ---- decisions --------------------------------------------------------------------------------

    private void decide(int cause) {
        trigger = cause;
        connector.requestAction(); // the orders are placed by takeAction() inside this call
    }

    /** Places the chosen orders: level {@code k} of a product orders {@code k * orderBatch} units. */
    @Override
    public void takeAction(RLAction action) {
        int[] levels = action.asIntArray();
        for (int p = 0; p < PRODUCTS; p++) {
            double units = Math.min((double) levels[p] * orderBatch, capacity - onHand[p] - onOrder[p]);
            if (units <= 0) {
                continue;
            }
            onOrder[p] += units;
            cost += orderCost;
            int product = p;
            events.scheduleIn(leadTime(), () -> deliveryArrives(product, units));
        }
    }

    /**
     * The observation, in the order of the Dict space of inventory.py. Gymnasium sorts the keys of
     * a Dict built from a dict alphabetically, so the values are written in that order:
     * backlog[3], day_of_week, hour, on_hand[3], on_order[3], time, trigger.
     */
    @Override
    public double[] getObservation() {
        double now = events.now();
        double[] observation = new double[3 * PRODUCTS + 4];
        int at = 0;
        for (int p = 0; p < PRODUCTS; p++) {
            observation[at++] = backlog[p];
        }
        observation[at++] = Math.floorMod((int) Math.floor(now), 7);
        observation[at++] = (now - Math.floor(now)) * 24;
        for (int p = 0; p < PRODUCTS; p++) {
            observation[at++] = onHand[p];
        }
        for (int p = 0; p < PRODUCTS; p++) {
            observation[at++] = onOrder[p];
        }
        observation[at++] = now;
        observation[at] = trigger;
        return observation;
    }

    /** Minus the costs since the previous decision; resets the count (called once per decision). */
    @Override
    public double getReward() {
        double reward = -cost;
        cost = 0;
        return reward;
    }

    /** Never: the horizon truncates the episode, and ending early must not save an agent costs. */
    @Override
    public boolean hasFinished() {
        return false;
    }

    // ---- picture ------------------------------------------------------------------------------

    /**
     * A simple view of the warehouse: the model time and why the model decides on top, and per
     * product three bars, units on hand (green), on order (blue) and backlogged (red), on a common
     * scale of at least {@code 2 * initialStock} units.
     */
    @Override
    public void drawFrame(Graphics2D g, int width, int height) {
        double now = events.now();
        int day = (int) Math.floor(now);
        double hours = (now - day) * 24;
        int fontSize = Math.max(10, height / 20);
        g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, fontSize));
        g.setColor(Color.BLACK);
        g.drawString(String.format("day %d (%s) %02d:%02d   %s", day, WEEKDAYS[Math.floorMod(day, 7)], (int) hours,
                (int) ((hours - Math.floor(hours)) * 60), trigger == STOCKOUT_REVIEW ? "stock-out review" : "daily review"),
                fontSize / 2, fontSize * 3 / 2);

        String[] legend = {"on hand", "on order", "backlog"};
        Color[] legendColors = {ON_HAND_COLOR, ON_ORDER_COLOR, BACKLOG_COLOR};
        for (int b = 0; b < legend.length; b++) {
            g.setColor(legendColors[b]);
            g.drawString(legend[b], fontSize / 2 + b * fontSize * 6, fontSize * 3);
        }

        double top = fontSize * 4;
        double bottom = height - fontSize * 2.0;
        double largest = 2.0 * initialStock;
        for (int p = 0; p < PRODUCTS; p++) {
            largest = Math.max(largest, Math.max(onHand[p], Math.max(onOrder[p], backlog[p])));
        }
        double unitHeight = (bottom - top) / Math.max(largest, 1);
        double groupWidth = (double) width / PRODUCTS;
        double barWidth = groupWidth / 4;
        double[][] bars = {onHand, onOrder, backlog};
        Color[] colors = {ON_HAND_COLOR, ON_ORDER_COLOR, BACKLOG_COLOR};
        for (int p = 0; p < PRODUCTS; p++) {
            double left = p * groupWidth + barWidth / 2;
            for (int b = 0; b < bars.length; b++) {
                double barHeight = bars[b][p] * unitHeight;
                g.setColor(colors[b]);
                g.fill(new Rectangle2D.Double(left + b * barWidth, bottom - barHeight, barWidth * 0.9, barHeight));
            }
            g.setColor(Color.BLACK);
            g.drawString(PRODUCT_NAMES[p] + ": " + (int) onHand[p] + " / " + (int) onOrder[p] + " / " + (int) backlog[p],
                    (float) left, (float) (bottom + fontSize * 1.3));
        }
        g.setColor(Color.GRAY);
        g.drawLine(0, (int) bottom, width, (int) bottom);
    }

    // ---- helpers ------------------------------------------------------------------------------

    private void accrueCostsUntil(double time) {
        double days = time - costCountedUntil;
        for (int p = 0; p < PRODUCTS; p++) {
            cost += days * (holdingCost * onHand[p] + backlogCost * backlog[p]);
        }
        costCountedUntil = time;
    }

    private int pickProduct() {
        double u = customerRandom.nextDouble();
        for (int p = 0; p < PRODUCTS - 1; p++) {
            if (u < mixCumulative[p]) {
                return p;
            }
        }
        return PRODUCTS - 1;
    }

    private double leadTime() {
        return triangular(supplierRandom, 0.5 * leadTimeMean, leadTimeMean, 1.5 * leadTimeMean);
    }

    private static double exponential(Random random, double rate) {
        return -Math.log(1 - random.nextDouble()) / rate;
    }

    /** A draw from the triangular distribution, like AnyLogic's {@code triangular(min, mode, max)}. */
    private static double triangular(Random random, double min, double mode, double max) {
        double u = random.nextDouble();
        double split = (mode - min) / (max - min);
        if (u < split) {
            return min + Math.sqrt(u * (max - min) * (mode - min));
        }
        return max - Math.sqrt((1 - u) * (max - min) * (max - mode));
    }

    private void checkParameters() {
        String[] parts = productMix.split(",");
        if (parts.length != PRODUCTS) {
            throw new IllegalArgumentException("productMix needs " + PRODUCTS + " comma-separated shares, got \""
                    + productMix + "\"");
        }
        double[] shares = new double[PRODUCTS];
        double total = 0;
        for (int p = 0; p < PRODUCTS; p++) {
            shares[p] = Double.parseDouble(parts[p].trim());
            if (!(shares[p] >= 0)) {
                throw new IllegalArgumentException("productMix shares must not be negative, got \"" + productMix + "\"");
            }
            total += shares[p];
        }
        if (!(total > 0)) {
            throw new IllegalArgumentException("productMix needs a positive share, got \"" + productMix + "\"");
        }
        mixCumulative = new double[PRODUCTS];
        double sum = 0;
        for (int p = 0; p < PRODUCTS; p++) {
            sum += shares[p] / total;
            mixCumulative[p] = sum;
        }
        require(demandRate >= 0, "demandRate must not be negative", demandRate);
        require(maxOrderSize >= 1, "maxOrderSize must be at least 1", maxOrderSize);
        require(leadTimeMean > 0, "leadTimeMean must be positive", leadTimeMean);
        require(orderBatch >= 1, "orderBatch must be at least 1", orderBatch);
        require(initialStock >= 0, "initialStock must not be negative", initialStock);
        require(capacity >= initialStock, "capacity must hold the initialStock (" + initialStock + ")", capacity);
        require(horizonDays > 0, "horizonDays must be positive", horizonDays);
        require(holdingCost >= 0 && backlogCost >= 0 && orderCost >= 0 && lostSaleCost >= 0,
                "costs must not be negative", holdingCost + ", " + backlogCost + ", " + orderCost + ", " + lostSaleCost);
    }

    private static void require(boolean condition, String message, Object value) {
        if (!condition) {
            throw new IllegalArgumentException(message + ", got " + value);
        }
    }
}
