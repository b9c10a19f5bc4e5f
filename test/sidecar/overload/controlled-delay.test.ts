import { describe, expect, it } from '@jest/globals';
import { ControlledDelay, type ControlledDelaySettings } from '../../../sidecar/overload/controlled-delay.js';

const paper: ControlledDelaySettings = { targetMs: 5, intervalMs: 100, timeoutMs: 250, order: 'adaptive-lifo' };

describe('controlled delay (simulated time)', () => {
  it('allows the long wait until arrivals have found the app full for a whole interval, then the target', () => {
    const delay = new ControlledDelay(paper);
    expect(delay.maxWaitMs(0)).toBe(250);
    delay.arrivedToFull(1_000);
    expect(delay.standsAt()).toBe(1_100);
    delay.arrivedToFull(1_050);
    expect(delay.standing(1_099)).toBe(false);
    expect(delay.maxWaitMs(1_099)).toBe(250);
    expect(delay.servesNewest(1_099)).toBe(false);
    expect(delay.standing(1_100)).toBe(true);
    expect(delay.maxWaitMs(1_100)).toBe(5);
    expect(delay.servesNewest(1_100)).toBe(true);
    expect(delay.standsAt()).toBeUndefined();
  });

  it('keeps standing through a free slot its own sheds left; stops once arrivals found room for an interval', () => {
    const delay = new ControlledDelay(paper);
    delay.arrivedToFull(0);
    expect(delay.standing(150)).toBe(true);
    delay.arrivedToRoom(200); // one gap: the queue had just shed its last waiter
    delay.arrivedToFull(203);
    delay.arrivedToRoom(250);
    expect(delay.standing(349)).toBe(true);
    delay.arrivedToRoom(349);
    expect(delay.standing(349)).toBe(true);
    delay.arrivedToRoom(350); // room since 250: demand fell
    expect(delay.standing(350)).toBe(false);
    expect(delay.maxWaitMs(350)).toBe(250);
    expect(delay.servesNewest(350)).toBe(false);
    // A new standing period needs a whole interval of full arrivals again.
    delay.arrivedToFull(600);
    expect(delay.standing(699)).toBe(false);
    expect(delay.standing(700)).toBe(true);
  });

  it('counts the time it stood (until room began) and each switch to LIFO', () => {
    const delay = new ControlledDelay(paper);
    expect(delay.standingSeconds(0)).toBe(0);
    delay.arrivedToFull(0);
    expect(delay.standingSeconds(100)).toBe(0);
    expect(delay.standingSeconds(350)).toBeCloseTo(0.25);
    delay.arrivedToRoom(500);
    delay.arrivedToRoom(600); // stood from 100 to 500
    expect(delay.standingSeconds(900)).toBeCloseTo(0.4);
    delay.arrivedToFull(1_000);
    expect(delay.standingSeconds(1_300)).toBeCloseTo(0.6);
    expect(delay.lifoSwitches()).toBe(2);
  });

  it('fifo order keeps the controlled delay and never serves the newest first', () => {
    const delay = new ControlledDelay({ ...paper, order: 'fifo' });
    delay.arrivedToFull(0);
    expect(delay.maxWaitMs(200)).toBe(5);
    expect(delay.servesNewest(200)).toBe(false);
    expect(delay.lifoSwitches()).toBe(0);
  });

  it('never allows more than the long timeout, even as a target', () => {
    const delay = new ControlledDelay({ ...paper, targetMs: 500, timeoutMs: 50 });
    delay.arrivedToFull(0);
    expect(delay.maxWaitMs(200)).toBe(50);
  });
});
