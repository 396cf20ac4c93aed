/**
 * The wire group coordinator's state machine, driven directly (the real-client tests in
 * kafkajs.test.ts and kcat.test.ts drive it over the wire).
 */
import { afterEach, describe, expect, it } from 'vitest'
import type { JoinGroupRequest, JoinGroupResponse } from './apis/join-group.js'
import { ErrorCode } from './error-codes.js'
import { WireGroupCoordinator, type WireGroupCoordinatorOptions } from './wire-group-coordinator.js'

const made: WireGroupCoordinator[] = []
afterEach(() => {
  for (const c of made.splice(0)) c.close()
})

function coordinator(options: Partial<WireGroupCoordinatorOptions> & { clock?: { t: number } } = {}): WireGroupCoordinator {
  const clock = options.clock
  const c = new WireGroupCoordinator({ embeddedMembers: () => 0, sweepIntervalMs: 1_000_000, now: clock ? () => clock.t : undefined, ...options })
  made.push(c)
  return c
}

function joinReq(memberId: string, protocols: [string, number][] = [['range', 1]], extra: Partial<JoinGroupRequest> = {}): JoinGroupRequest {
  return {
    groupId: 'g',
    sessionTimeoutMs: 10_000,
    rebalanceTimeoutMs: 5_000,
    memberId,
    groupInstanceId: null,
    protocolType: 'consumer',
    protocols: protocols.map(([name, meta]) => ({ name, metadata: Buffer.from([meta]) })),
    ...extra,
  }
}

const ctx = (version = 5, clientId = 'c') => ({ version, clientId, clientHost: '/127.0.0.1' })

/** Join as a new member the v4+ way: MEMBER_ID_REQUIRED, then again with the id. */
async function newMember(c: WireGroupCoordinator, protocols?: [string, number][], extra: Partial<JoinGroupRequest> = {}): Promise<{ id: string; joined: Promise<JoinGroupResponse> }> {
  const first = await c.join(joinReq('', protocols, extra), ctx())
  expect(first.errorCode).toBe(ErrorCode.MEMBER_ID_REQUIRED)
  expect(first.memberId).toMatch(/^c-/)
  return { id: first.memberId, joined: c.join(joinReq(first.memberId, protocols, extra), ctx()) }
}

const settled = async <T>(p: Promise<T>): Promise<boolean> => {
  let done = false
  void p.then(() => (done = true))
  await new Promise((r) => setImmediate(r))
  return done
}

describe('WireGroupCoordinator', () => {
  it('v4+: a first join gets MEMBER_ID_REQUIRED; the retry with the id joins; v0-3 joins at once', async () => {
    const c = coordinator()
    const a = await newMember(c)
    const ra = await a.joined
    expect(ra).toMatchObject({ errorCode: 0, generationId: 1, protocolName: 'range', leader: a.id, memberId: a.id })
    expect(ra.members.map((m) => m.memberId)).toEqual([a.id])

    const old = coordinator()
    const r = await old.join(joinReq(''), ctx(3))
    expect(r.errorCode).toBe(0)
    expect(r.memberId).toMatch(/^c-/)
    expect(r.generationId).toBe(1)
  })

  it('holds JoinGroup until every known member rejoined; only the leader gets the member list', async () => {
    const c = coordinator()
    const a = await newMember(c)
    const ra = await a.joined
    expect((await c.sync({ groupId: 'g', generationId: 1, memberId: a.id, assignments: [{ memberId: a.id, assignment: Buffer.from('A') }] })).assignment.toString()).toBe('A')
    expect(c.describe('g')?.state).toBe('Stable')

    // A second member joins: its JoinGroup is held, the first learns by heartbeat.
    const b = await newMember(c)
    expect(await settled(b.joined)).toBe(false)
    expect(c.describe('g')?.state).toBe('PreparingRebalance')
    expect(c.heartbeat({ groupId: 'g', generationId: ra.generationId, memberId: a.id })).toBe(ErrorCode.REBALANCE_IN_PROGRESS)
    // Commits of the old generation still count while the members rejoin (they commit on revoke).
    expect(c.checkCommit('g', a.id, 1)).toBe(ErrorCode.NONE)

    const ra2 = c.join(joinReq(a.id), ctx())
    const [x, y] = await Promise.all([ra2, b.joined])
    expect(x.generationId).toBe(2)
    expect(y.generationId).toBe(2)
    expect(x.leader).toBe(a.id) // the leader is kept
    expect(x.members.map((m) => m.memberId).sort()).toEqual([a.id, b.id].sort())
    expect(y.members).toEqual([])

    // SyncGroup: the follower waits for the leader's assignments.
    const syncB = c.sync({ groupId: 'g', generationId: 2, memberId: b.id, assignments: [] })
    expect(await settled(syncB)).toBe(false)
    expect(c.checkCommit('g', b.id, 2)).toBe(ErrorCode.REBALANCE_IN_PROGRESS)
    expect(c.heartbeat({ groupId: 'g', generationId: 2, memberId: b.id })).toBe(ErrorCode.NONE)
    const syncA = await c.sync({
      groupId: 'g',
      generationId: 2,
      memberId: a.id,
      assignments: [
        { memberId: a.id, assignment: Buffer.from('A2') },
        { memberId: b.id, assignment: Buffer.from('B2') },
      ],
    })
    expect(syncA.assignment.toString()).toBe('A2')
    expect((await syncB).assignment.toString()).toBe('B2')
    expect(c.describe('g')?.state).toBe('Stable')
    expect(c.checkCommit('g', b.id, 2)).toBe(ErrorCode.NONE)
  })

  it('ILLEGAL_GENERATION and UNKNOWN_MEMBER_ID where Kafka answers them', async () => {
    const c = coordinator()
    const a = await newMember(c)
    await a.joined
    expect(c.heartbeat({ groupId: 'g', generationId: 7, memberId: a.id })).toBe(ErrorCode.ILLEGAL_GENERATION)
    expect((await c.sync({ groupId: 'g', generationId: 0, memberId: a.id, assignments: [] })).errorCode).toBe(ErrorCode.ILLEGAL_GENERATION)
    expect(c.checkCommit('g', a.id, 0)).toBe(ErrorCode.ILLEGAL_GENERATION)
    expect(c.heartbeat({ groupId: 'g', generationId: 1, memberId: 'nobody' })).toBe(ErrorCode.UNKNOWN_MEMBER_ID)
    expect(c.heartbeat({ groupId: 'other', generationId: 1, memberId: a.id })).toBe(ErrorCode.UNKNOWN_MEMBER_ID)
    expect((await c.join(joinReq('made-up'), ctx())).errorCode).toBe(ErrorCode.UNKNOWN_MEMBER_ID)
    expect(c.leave({ groupId: 'g', memberId: 'nobody' })).toBe(ErrorCode.UNKNOWN_MEMBER_ID)
    // A commit from outside the group (generation -1) only while the group has no members.
    expect(c.checkCommit('g', '', -1)).toBe(ErrorCode.UNKNOWN_MEMBER_ID)
    expect(c.checkCommit('empty-group', '', -1)).toBe(ErrorCode.NONE)
  })

  it('picks a protocol every member supports, by the members\' preferences; refuses one with none in common', async () => {
    const c = coordinator()
    const a = await newMember(c, [
      ['roundrobin', 1],
      ['range', 2],
    ])
    await a.joined
    const b = await newMember(c, [
      ['range', 3],
      ['roundrobin', 4],
    ])
    const ra = c.join(joinReq(a.id, [
      ['roundrobin', 1],
      ['range', 2],
    ]), ctx())
    const [x] = await Promise.all([ra, b.joined])
    // One vote each: Kafka takes the first with the most votes; both are common to all.
    expect(['roundrobin', 'range']).toContain(x.protocolName)
    // The leader sees each member's metadata for the chosen protocol.
    const metaOf = (id: string) => x.members.find((m) => m.memberId === id)!.metadata[0]
    expect([metaOf(a.id), metaOf(b.id)]).toEqual(x.protocolName === 'range' ? [2, 3] : [1, 4])

    const other = await c.join(joinReq('', [['RoundRobinAssigner', 9]]), ctx())
    expect(other.errorCode).toBe(ErrorCode.INCONSISTENT_GROUP_PROTOCOL)
    const wrongType = await c.join(joinReq('', [['range', 1]], { protocolType: 'connect' }), ctx())
    expect(wrongType.errorCode).toBe(ErrorCode.INCONSISTENT_GROUP_PROTOCOL)
  })

  it('refuses wire members in a group that has embedded members', async () => {
    const c = coordinator({ embeddedMembers: (g) => (g === 'g' ? 1 : 0) })
    expect((await c.join(joinReq(''), ctx())).errorCode).toBe(ErrorCode.INCONSISTENT_GROUP_PROTOCOL)
    expect(c.checkCommit('g', '', -1)).toBe(ErrorCode.UNKNOWN_MEMBER_ID)
  })

  it('checks the session timeout range', async () => {
    const c = coordinator({ minSessionTimeoutMs: 6000 })
    expect((await c.join(joinReq('', undefined, { sessionTimeoutMs: 5999 }), ctx())).errorCode).toBe(ErrorCode.INVALID_SESSION_TIMEOUT)
    expect((await c.join(joinReq('', undefined, { sessionTimeoutMs: 31 * 60 * 1000 }), ctx())).errorCode).toBe(ErrorCode.INVALID_SESSION_TIMEOUT)
    expect((await c.join(joinReq('', undefined, { groupId: '' }), ctx())).errorCode).toBe(ErrorCode.INVALID_GROUP_ID)
  })

  it('expires a silent member and rebalances the rest; a held member is not silent', async () => {
    const clock = { t: 1_000_000 }
    const c = coordinator({ clock })
    const a = await newMember(c)
    await a.joined
    await c.sync({ groupId: 'g', generationId: 1, memberId: a.id, assignments: [] })
    const b = await newMember(c) // held in JoinGroup, waiting for a
    clock.t += 9_000
    c.heartbeat({ groupId: 'g', generationId: 1, memberId: a.id }) // a is alive, learns of the rebalance
    clock.t += 9_000
    c.expireSessions()
    expect(c.memberCount('g')).toBe(2) // a heartbeated 9 s ago; b is held
    clock.t += 2_000
    c.expireSessions() // a silent for 11 s > 10 s
    const rb = await b.joined
    expect(rb).toMatchObject({ errorCode: 0, generationId: 2, leader: b.id })
    expect(c.memberCount('g')).toBe(1)
    expect(c.heartbeat({ groupId: 'g', generationId: 2, memberId: a.id })).toBe(ErrorCode.UNKNOWN_MEMBER_ID)
  })

  it('a member that does not rejoin within the rebalance timeout is removed', async () => {
    const c = coordinator()
    const a = await newMember(c, undefined, { rebalanceTimeoutMs: 200 })
    await a.joined
    await c.sync({ groupId: 'g', generationId: 1, memberId: a.id, assignments: [] })
    const b = await newMember(c, undefined, { rebalanceTimeoutMs: 200 })
    // a never rejoins (nor heartbeats): after the rebalance timeout b's join completes without it.
    expect(await settled(b.joined)).toBe(false)
    const r = await b.joined
    expect(r).toMatchObject({ errorCode: 0, generationId: 2, leader: b.id })
    expect(r.members.map((m) => m.memberId)).toEqual([b.id])
    expect(c.memberCount('g')).toBe(1)
    expect(c.heartbeat({ groupId: 'g', generationId: 1, memberId: a.id })).toBe(ErrorCode.UNKNOWN_MEMBER_ID)
  })

  it('leaving answers the held requests of the others and empties the group', async () => {
    const c = coordinator()
    const a = await newMember(c)
    await a.joined
    await c.sync({ groupId: 'g', generationId: 1, memberId: a.id, assignments: [] })
    const b = await newMember(c)
    expect(c.leave({ groupId: 'g', memberId: a.id })).toBe(ErrorCode.NONE)
    const rb = await b.joined // no need to wait for a any more
    expect(rb).toMatchObject({ errorCode: 0, generationId: 2, leader: b.id })
    expect(c.leave({ groupId: 'g', memberId: b.id })).toBe(ErrorCode.NONE)
    expect(c.describe('g')).toMatchObject({ state: 'Empty', members: [] })
    expect(c.memberCount('g')).toBe(0)
  })

  it('close() answers held JoinGroup and SyncGroup with NOT_COORDINATOR', async () => {
    const c = coordinator()
    const a = await newMember(c)
    await a.joined
    await c.sync({ groupId: 'g', generationId: 1, memberId: a.id, assignments: [] })
    const b = await newMember(c)
    c.close()
    expect((await b.joined).errorCode).toBe(ErrorCode.NOT_COORDINATOR)
    expect(c.memberCount('g')).toBe(0)
  })
})
