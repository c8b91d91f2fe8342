package com.alpyperl.launcher;

import static org.junit.Assert.assertEquals;

import org.junit.Test;

public class SpinPolicyTest {
    private static final long SPIN = 50_000;

    @Test
    public void keepsSpinningWhileSpinsPayOff() {
        SpinPolicy policy = new SpinPolicy(SPIN);
        for (int i = 0; i < 10; i++) {
            long spin = policy.nextSpin();
            assertEquals(SPIN, spin);
            policy.waited(spin, 1_000);
        }
    }

    @Test
    public void parksAtOnceForDoublingStretchesAfterFailedSpins() {
        SpinPolicy policy = new SpinPolicy(SPIN);
        for (int parked : new int[] {1, 2, 4, 8}) {
            long spin = policy.nextSpin();
            assertEquals(SPIN, spin);
            policy.waited(spin, 200_000); // the other side took longer than the spin
            for (int i = 0; i < parked; i++) {
                long none = policy.nextSpin();
                assertEquals(0, none);
                policy.waited(none, 10_000); // parked waits say nothing about spinning
            }
        }
    }

    @Test
    public void aSuccessfulSpinResetsTheBackoffAndTheStretchIsCapped() {
        SpinPolicy policy = new SpinPolicy(SPIN);
        for (int round = 0; round < 12; round++) {
            policy.waited(policy.nextSpin(), 200_000);
            int parked = 0;
            while (policy.nextSpin() == 0) {
                parked++;
            }
            assertEquals(Math.min(1 << round, 256), parked);
        }
        policy.waited(SPIN, 1_000); // the spin that ended the last stretch paid off
        policy.waited(policy.nextSpin(), 200_000);
        assertEquals(0, policy.nextSpin());
        assertEquals(SPIN, policy.nextSpin());
    }

    @Test
    public void aZeroSpinNeverSpins() {
        SpinPolicy policy = new SpinPolicy(0);
        policy.waited(policy.nextSpin(), 200_000);
        assertEquals(0, policy.nextSpin());
    }
}
