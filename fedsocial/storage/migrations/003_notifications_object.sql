-- Notifications are looked up by the object they are about: a post mentions or answers a local
-- actor once, however many Creates of it arrive (a relay, a retry under another activity id).
CREATE INDEX notifications_object ON notifications (object_id, actor_name, kind);
