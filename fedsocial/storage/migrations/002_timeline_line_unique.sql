-- A timeline line is (actor, object, booster). The UNIQUE constraint of 001 does not hold for
-- plain posts: boosted_by is NULL there, and SQLite treats NULLs as distinct, so a post from a
-- followed author that also mentions the reader was stored (and shown) twice.
DELETE FROM timeline
WHERE boosted_by IS NULL
  AND seq NOT IN (
    SELECT min(seq) FROM timeline WHERE boosted_by IS NULL GROUP BY actor_name, object_id
  );
CREATE UNIQUE INDEX timeline_line ON timeline (actor_name, object_id, ifnull(boosted_by, ''));
