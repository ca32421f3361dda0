-- INSERT OR REPLACE deletes the row it collides with without firing the
-- DELETE trigger, and an insert may name its own seq: refuse an insert
-- onto a seq in the trail (before it, which catches REPLACE), and one
-- whose seq is not past every other (after it, when the seq is known), so
-- that no row is replaced or slipped in between.
CREATE TRIGGER audit_no_replace BEFORE INSERT ON audit
WHEN EXISTS (SELECT 1 FROM audit WHERE seq = NEW.seq)
BEGIN
	SELECT RAISE(ABORT, 'audit is append-only: a seq is never reused');
END;
CREATE TRIGGER audit_only_after_last AFTER INSERT ON audit
WHEN NEW.seq <= (SELECT coalesce(max(seq), 0) FROM audit WHERE seq <> NEW.seq)
BEGIN
	SELECT RAISE(ABORT, 'audit is append-only: a row goes after the last');
END;
