import assert from "node:assert/strict";
import fc from "fast-check";
import { NIL, ScoreTree } from "../../src/store/score_tree.ts";

type Entry = [member: string, score: number];

/** The reference order: score, then member bytes. */
function compare(a: Entry, b: Entry): number {
  if (a[1] !== b[1]) return a[1] < b[1] ? -1 : 1;
  return a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0;
}

/** The list's elements walked forward, and walked backward then reversed. */
function walks(list: ScoreTree): [Entry[], Entry[]] {
  const forward: Entry[] = [];
  for (let x = list.first; x !== NIL; x = list.next(x)) {
    forward.push([list.member(x), list.score(x)]);
  }
  const backward: Entry[] = [];
  for (let x = list.last; x !== NIL; x = list.previous(x)) {
    backward.push([list.member(x), list.score(x)]);
  }
  return [forward, backward.reverse()];
}

/** Asserts that `list` holds exactly `model` (sorted), walked either way and by rank. */
function assertSame(list: ScoreTree, model: Entry[]): void {
  const [forward, backward] = walks(list);
  assert.deepEqual(forward, model);
  assert.deepEqual(backward, model);
  assert.equal(list.length, model.length);
  for (let i = 0; i < model.length; i += Math.max(1, model.length >> 4)) {
    assert.equal(list.rank(model[i][0], model[i][1]), i);
    const x = list.at(i);
    assert.deepEqual([list.member(x), list.score(x)], model[i]);
  }
}

Deno.test("the score tree matches a sorted array through random operations (seeded)", () => {
  const memberArb = fc.oneof(
    fc.constantFrom("a", "b", "", "\xff", "\x00", "\x80"),
    fc.array(fc.integer({ min: 0, max: 255 }), { maxLength: 3 })
      .map((codes) => String.fromCharCode(...codes)),
  );
  const scoreArb = fc.oneof(
    fc.integer({ min: -2, max: 2 }),
    fc.constantFrom(Infinity, -Infinity, 0.5, 5e-324),
    fc.double({ noNaN: true, noDefaultInfinity: true }),
  );
  const opArb = fc.record({
    kind: fc.constantFrom(
      "insert",
      "insert",
      "bulk",
      "delete",
      "update",
      "rank",
      "at",
      "deleteRanks",
      "countScores",
      "countMembers",
    ),
    member: memberArb,
    score: scoreArb,
    a: fc.nat({ max: 3000 }),
    b: fc.nat({ max: 3000 }),
  });
  fc.assert(
    fc.property(fc.array(opArb, { maxLength: 60 }), (ops) => {
      const list = new ScoreTree();
      let model: Entry[] = [];
      let bulk = 0;
      const find = (member: string) => model.findIndex(([m]) => m === member);
      const add = (member: string, score: number) => {
        list.insert(member, score);
        model.push([member, score]);
      };
      for (const op of ops) {
        const i = find(op.member);
        const size = model.length;
        if (op.kind === "insert" && i < 0) add(op.member, op.score);
        else if (op.kind === "bulk") {
          for (let n = 0; n < op.a; n++) add(`bulk${bulk++}`, (n * 7919) % 13);
        } else if (op.kind === "delete") {
          const score = i < 0 ? op.score : model[i][1];
          assert.equal(list.delete(op.member, score), i >= 0);
          if (i >= 0) model.splice(i, 1);
        } else if (op.kind === "update" && i >= 0) {
          const x = list.updateScore(op.member, model[i][1], op.score);
          assert.deepEqual([list.member(x), list.score(x)], [op.member, op.score]);
          model[i] = [op.member, op.score];
        } else if (op.kind === "rank") {
          model.sort(compare);
          const want = find(op.member);
          const score = want < 0 ? op.score : model[want][1];
          assert.equal(list.rank(op.member, score), want);
        } else if (op.kind === "at" && size > 0) {
          model.sort(compare);
          const x = list.at(op.a % size);
          assert.deepEqual([list.member(x), list.score(x)], model[op.a % size]);
        } else if (op.kind === "deleteRanks" && size > 0) {
          model.sort(compare);
          const lo = Math.min(op.a, op.b) % size;
          const hi = Math.min(size - 1, lo + Math.abs(op.a - op.b));
          const seen: Entry[] = [];
          list.deleteRanks(lo, hi, (member, score) => seen.push([member, score]));
          assert.deepEqual(seen, model.splice(lo, hi - lo + 1));
        } else if (op.kind === "countScores") {
          const s = op.score;
          assert.equal(list.countScoresBelow(s, false), model.filter(([, v]) => v < s).length);
          assert.equal(list.countScoresBelow(s, true), model.filter(([, v]) => v <= s).length);
        } else if (op.kind === "countMembers" && new Set(model.map(([, v]) => v)).size <= 1) {
          const m = op.member;
          assert.equal(list.countMembersBelow(m, false), model.filter(([v]) => v < m).length);
          assert.equal(list.countMembersBelow(m, true), model.filter(([v]) => v <= m).length);
        }
        model = model.sort(compare);
        assert.equal(list.length, model.length);
      }
      assertSame(list, model);
    }),
    { seed: 20261208, numRuns: 150 },
  );
});

Deno.test("the score tree shrinks after mass deletes and keeps working", () => {
  const list = new ScoreTree();
  let model: Entry[] = [];
  for (let i = 0; i < 5000; i++) {
    list.insert(`m${i}`, i % 97);
    model.push([`m${i}`, i % 97]);
  }
  model.sort(compare);
  list.deleteRanks(100, 4899, () => {});
  model.splice(100, 4800);
  assertSame(list, model);
  for (let i = 0; i < 300; i++) {
    list.insert(`n${i}`, i % 11);
    model.push([`n${i}`, i % 11]);
  }
  model.sort(compare);
  for (let i = 0; i < model.length; i += 3) {
    assert.equal(list.delete(model[i][0], model[i][1]), true);
  }
  model = model.filter((_, i) => i % 3 !== 0);
  assertSame(list, model);
  list.deleteRanks(0, model.length - 1, () => {});
  assertSame(list, []);
  list.insert("again", 1);
  assertSame(list, [["again", 1]]);
});

Deno.test("a rebuild after mass removals keeps order, ranks, scores and searches by score", () => {
  const list = new ScoreTree();
  let model: Entry[] = [];
  for (let i = 0; i < 6000; i++) {
    const entry: Entry = [`m${i}`, (i * 7919) % 97];
    list.insert(entry[0], entry[1]);
    model.push(entry);
  }
  model.sort(compare);
  // Remove most elements from the middle and the ends: the arrays are rebuilt on the way.
  list.deleteRanks(100, 5799, () => {});
  model = [...model.slice(0, 100), ...model.slice(5800)];
  list.deleteRanks(0, 49, () => {});
  model = model.slice(50);
  assertSame(list, model);
  // Searches by score (which read the separators kept in the nodes) and updates still work.
  for (const [member, score] of model.slice(0, 20)) {
    const x = list.updateScore(member, score, score + 0.5);
    assert.equal(list.score(x), score + 0.5);
    model = model.map(([m, s]) => m === member ? [m, s + 0.5] : [m, s]);
  }
  model.sort(compare);
  assertSame(list, model);
  assert.equal(list.countScoresBelow(50, false), model.filter(([, s]) => s < 50).length);
  for (let i = 0; i < 500; i++) {
    list.insert(`n${i}`, i % 13);
    model.push([`n${i}`, i % 13]);
  }
  model.sort(compare);
  assertSame(list, model);
});

/** A generator of numbers in [0, 1) from a seed, so that a failure can be replayed. */
function seeded(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

Deno.test("a tree several levels deep stays right through mass inserts, updates and deletes", () => {
  const random = seeded(20261207);
  const tree = new ScoreTree();
  const scores = new Map<string, number>();
  const check = () => {
    const model: Entry[] = [...scores].sort(compare);
    assertSame(tree, model);
    for (let i = 0; i < 40; i++) {
      const bound = Math.floor(random() * 2200) - 100;
      assert.equal(tree.countScoresBelow(bound, false), model.filter(([, s]) => s < bound).length);
      assert.equal(tree.countScoresBelow(bound, true), model.filter(([, s]) => s <= bound).length);
    }
  };
  // 60k random members (four levels of nodes), with many equal scores.
  for (let i = 0; i < 60000; i++) {
    const member = `m${Math.floor(random() * 1e9)}`;
    if (scores.has(member)) continue;
    const score = Math.floor(random() * 2000);
    tree.insert(member, score);
    scores.set(member, score);
  }
  check();
  const members = [...scores.keys()];
  for (let i = 0; i < 30000; i++) {
    const member = members[Math.floor(random() * members.length)];
    const score = Math.floor(random() * 2000);
    const id = tree.updateScore(member, scores.get(member)!, score);
    assert.deepEqual([tree.member(id), tree.score(id)], [member, score]);
    scores.set(member, score);
  }
  check();
  // Remove 95% in random order: leaves and nodes merge and free up, the arrays shrink.
  for (let i = members.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [members[i], members[j]] = [members[j], members[i]];
  }
  const kept = Math.floor(members.length / 20);
  for (let i = kept; i < members.length; i++) {
    assert.equal(tree.delete(members[i], scores.get(members[i])!), true);
    assert.equal(tree.delete(members[i], scores.get(members[i])!), false);
    scores.delete(members[i]);
    if (i % 10000 === 0) check();
  }
  check();
  // Refill in order (scores rising, as timestamps), then drain from the front as ZPOPMIN does.
  for (let i = 0; i < 20000; i++) {
    tree.insert(`t${i}`, 3000 + i);
    scores.set(`t${i}`, 3000 + i);
  }
  check();
  const model: Entry[] = [...scores].sort(compare);
  const popped: Entry[] = [];
  tree.deleteRanks(0, 999, (member, score) => popped.push([member, score]));
  assert.deepEqual(popped, model.slice(0, 1000));
  for (const [member] of model.slice(0, 1000)) scores.delete(member);
  while (scores.size > 500) {
    const x = tree.first;
    const [member, score] = [tree.member(x), tree.score(x)];
    assert.equal(tree.delete(member, score), true);
    scores.delete(member);
  }
  check();
  tree.deleteRanks(0, tree.length - 1, () => {});
  assertSame(tree, []);
});
