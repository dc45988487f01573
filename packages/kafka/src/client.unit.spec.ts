import { KafkaJSProtocolError, type Admin } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { fetchTopicOffsetsSettled } from './client.js';

// kafkajs's typings declare the constructor's argument an Error; at run time it takes the protocol error's fields.
const notLeader = () =>
  new KafkaJSProtocolError(
    Object.assign(new Error('This server is not the leader for that topic-partition'), {
      type: 'NOT_LEADER_FOR_PARTITION',
      code: 6,
      retriable: true,
    }),
  );

/** An admin whose fetchTopicOffsets fails with the given errors, then answers; it counts the calls. */
function admin(failures: Error[]) {
  const calls = { offsets: 0, metadata: 0 };
  const fake = {
    fetchTopicOffsets: () => {
      calls.offsets++;
      const failure = failures.shift();
      return failure === undefined
        ? Promise.resolve([{ partition: 0, offset: '5', high: '5', low: '0' }])
        : Promise.reject(failure);
    },
    fetchTopicMetadata: () => {
      calls.metadata++;
      return Promise.resolve({ topics: [] });
    },
  };
  return { admin: fake as unknown as Admin, calls };
}

describe('fetchTopicOffsetsSettled', () => {
  it('retries "not the leader" while leadership settles, refreshing metadata before each retry', async () => {
    const { admin: a, calls } = admin([notLeader(), notLeader()]);
    expect(await fetchTopicOffsetsSettled(a, 't')).toEqual([
      { partition: 0, offset: '5', high: '5', low: '0' },
    ]);
    expect(calls).toEqual({ offsets: 3, metadata: 2 });
  });

  it('gives up after its attempts, and at once on an error that is not about leadership', async () => {
    const stuck = admin([notLeader(), notLeader(), notLeader()]);
    await expect(fetchTopicOffsetsSettled(stuck.admin, 't', 2)).rejects.toThrow(/not the leader/);
    expect(stuck.calls.offsets).toBe(2);
    const other = admin([new Error('boom')]);
    await expect(fetchTopicOffsetsSettled(other.admin, 't')).rejects.toThrow('boom');
    expect(other.calls.offsets).toBe(1);
  });
});
