"""Ordered schema migrations (sqlite-utils Migrations); a shipped migration is never edited.

``PRAGMA user_version`` holds SCHEMA_VERSION so that an older vsearch can refuse a newer
library without reading the migrations table (qutebrowser's rule).
"""

from __future__ import annotations

import sqlite3

from sqlite_utils import Database
from sqlite_utils.migrations import Migrations

SCHEMA_VERSION = 4

MIGRATIONS = Migrations("vsearch")


def _run_script(db: Database, script: str) -> None:
    """Execute statement by statement: ``executescript`` would COMMIT the migration's transaction."""
    buf = ""
    for line in script.splitlines(keepends=True):
        buf += line
        if sqlite3.complete_statement(buf):
            db.execute(buf)
            buf = ""
    if buf.strip():
        raise ValueError("incomplete SQL statement in migration")


@MIGRATIONS(name="0001_initial")
def _initial(db: Database) -> None:
    _run_script(
        db,
        """
        CREATE TABLE roots (
            id INTEGER PRIMARY KEY,
            path TEXT NOT NULL UNIQUE,
            added REAL NOT NULL,
            last_scan REAL
        );
        CREATE TABLE videos (
            id INTEGER PRIMARY KEY,
            root_id INTEGER REFERENCES roots(id) ON DELETE CASCADE,
            path TEXT NOT NULL UNIQUE,
            size INTEGER NOT NULL,
            mtime REAL NOT NULL,
            duration REAL,
            fps REAL,
            width INTEGER,
            height INTEGER,
            rotation INTEGER,
            codec TEXT,
            has_audio INTEGER,
            status TEXT NOT NULL DEFAULT 'pending',  -- pending | indexed | failed | gone
            error TEXT,
            added REAL NOT NULL,
            updated REAL
        );
        CREATE INDEX videos_root ON videos(root_id);
        CREATE INDEX videos_status ON videos(status);
        CREATE TABLE models (
            id INTEGER PRIMARY KEY,
            model_id TEXT NOT NULL UNIQUE,
            name TEXT NOT NULL,
            dim INTEGER NOT NULL,
            state TEXT NOT NULL DEFAULT 'building',  -- building | active | retired
            generation INTEGER NOT NULL DEFAULT 0,     -- bumped by every vector write
            created REAL NOT NULL,
            activated REAL
        );
        CREATE TABLE frames (
            id INTEGER PRIMARY KEY AUTOINCREMENT,  -- ANN labels: never reused
            video_id INTEGER NOT NULL REFERENCES videos(id) ON DELETE CASCADE,
            t REAL NOT NULL,
            UNIQUE (video_id, t)
        );
        CREATE TABLE vectors (
            frame_id INTEGER NOT NULL REFERENCES frames(id) ON DELETE CASCADE,
            model INTEGER NOT NULL REFERENCES models(id) ON DELETE CASCADE,
            vec BLOB NOT NULL,  -- float16, little-endian, L2-normalised
            PRIMARY KEY (model, frame_id)
        ) WITHOUT ROWID;
        CREATE INDEX vectors_frame ON vectors(frame_id);
        -- a video counts as embedded for a model only when its row here says done
        CREATE TABLE video_models (
            video_id INTEGER NOT NULL REFERENCES videos(id) ON DELETE CASCADE,
            model INTEGER NOT NULL REFERENCES models(id) ON DELETE CASCADE,
            frames INTEGER NOT NULL,
            done REAL NOT NULL,
            PRIMARY KEY (model, video_id)
        ) WITHOUT ROWID;
        CREATE TABLE transcripts (
            video_id INTEGER NOT NULL REFERENCES videos(id) ON DELETE CASCADE,
            model_id TEXT NOT NULL,
            status TEXT NOT NULL,  -- done | no-audio | failed
            error TEXT,
            done REAL NOT NULL,
            PRIMARY KEY (video_id, model_id)
        ) WITHOUT ROWID;
        CREATE TABLE speech_segments (
            id INTEGER PRIMARY KEY,
            video_id INTEGER NOT NULL REFERENCES videos(id) ON DELETE CASCADE,
            model_id TEXT NOT NULL,
            start REAL NOT NULL,
            end REAL NOT NULL,
            text TEXT NOT NULL,
            words TEXT,       -- JSON [[start, end, word], ...]
            encoder TEXT,     -- sentence encoder of vec
            vec BLOB          -- float16 sentence embedding
        );
        CREATE INDEX speech_video ON speech_segments(video_id);
        CREATE VIRTUAL TABLE speech_fts USING fts5(text, content='speech_segments', content_rowid='id');
        CREATE TRIGGER speech_ai AFTER INSERT ON speech_segments BEGIN
            INSERT INTO speech_fts(rowid, text) VALUES (new.id, new.text);
        END;
        CREATE TRIGGER speech_ad AFTER DELETE ON speech_segments BEGIN
            INSERT INTO speech_fts(speech_fts, rowid, text) VALUES ('delete', old.id, old.text);
        END;
        CREATE TRIGGER speech_au AFTER UPDATE ON speech_segments BEGIN
            INSERT INTO speech_fts(speech_fts, rowid, text) VALUES ('delete', old.id, old.text);
            INSERT INTO speech_fts(rowid, text) VALUES (new.id, new.text);
        END;
        """
    )


@MIGRATIONS(name="0002_vectors_rowid")
def _vectors_rowid(db: Database) -> None:
    """Vectors move to a rowid table.

    In a WITHOUT ROWID table each 1 KB blob spilled into an overflow page of its own (about 3 KB
    per frame on disk); a rowid table keeps it inline.
    """
    _run_script(
        db,
        """
        CREATE TABLE vectors_new (
            frame_id INTEGER NOT NULL REFERENCES frames(id) ON DELETE CASCADE,
            model INTEGER NOT NULL REFERENCES models(id) ON DELETE CASCADE,
            vec BLOB NOT NULL  -- float16, little-endian, L2-normalised
        );
        INSERT INTO vectors_new(frame_id, model, vec) SELECT frame_id, model, vec FROM vectors ORDER BY model, frame_id;
        DROP TABLE vectors;
        ALTER TABLE vectors_new RENAME TO vectors;
        CREATE UNIQUE INDEX vectors_model_frame ON vectors(model, frame_id);
        CREATE INDEX vectors_frame ON vectors(frame_id);
        """,
    )


@MIGRATIONS(name="0003_screen_text")
def _screen_text(db: Database) -> None:
    """On-screen text (issue 18): OCR spans, a trigram FTS5 mirror of their keys, ``ocr_runs``.

    Keys are letters and digits only, so OCR's dropped spaces and one-letter slips can still be
    found; each span has a float16 sentence vector; ``ocr_runs`` says a video has been read.
    """
    _run_script(
        db,
        """
        CREATE TABLE ocr_runs (
            video_id INTEGER NOT NULL REFERENCES videos(id) ON DELETE CASCADE,
            model_id TEXT NOT NULL,
            status TEXT NOT NULL,  -- done | no-text | failed
            error TEXT,
            frames INTEGER NOT NULL DEFAULT 0,  -- frames read
            seconds REAL,                       -- wall time the reading took
            done REAL NOT NULL,
            PRIMARY KEY (video_id, model_id)
        ) WITHOUT ROWID;
        CREATE TABLE screen_text (
            id INTEGER PRIMARY KEY,
            video_id INTEGER NOT NULL REFERENCES videos(id) ON DELETE CASCADE,
            model_id TEXT NOT NULL,
            start REAL NOT NULL,
            end REAL NOT NULL,
            text TEXT NOT NULL,        -- as recognised
            key TEXT NOT NULL,         -- letters and digits, lower case, look-alikes folded (vsearch.ocr.text.key)
            box TEXT,                  -- JSON [x0, y0, x1, y1], fractions of the frame
            confidence REAL,
            encoder TEXT,              -- sentence encoder of vec
            vec BLOB                   -- float16 sentence embedding
        );
        CREATE INDEX screen_text_video ON screen_text(video_id);
        CREATE VIRTUAL TABLE screen_text_fts USING fts5(key, content='screen_text', content_rowid='id', tokenize='trigram');
        CREATE TRIGGER screen_text_ai AFTER INSERT ON screen_text BEGIN
            INSERT INTO screen_text_fts(rowid, key) VALUES (new.id, new.key);
        END;
        CREATE TRIGGER screen_text_ad AFTER DELETE ON screen_text BEGIN
            INSERT INTO screen_text_fts(screen_text_fts, rowid, key) VALUES ('delete', old.id, old.key);
        END;
        CREATE TRIGGER screen_text_au AFTER UPDATE ON screen_text BEGIN
            INSERT INTO screen_text_fts(screen_text_fts, rowid, key) VALUES ('delete', old.id, old.key);
            INSERT INTO screen_text_fts(rowid, key) VALUES (new.id, new.key);
        END;
        """,
    )


@MIGRATIONS(name="0004_scan_problems_fingerprints")
def _scan_problems_fingerprints(db: Database) -> None:
    """What a scan could not take, and what recognises a moved or vanished file (issues 15.9, 16.13).

    ``scan_problems`` holds each root's problems from its last scan (a name that is not UTF-8,
    an unreadable folder) keyed by the path's raw bytes, since such a name cannot be TEXT: status
    lists them, and a rename or removal clears them at the next scan. ``videos.fingerprint`` is
    the file's size and a hash of fixed-offset blocks (:func:`vsearch.scan.fingerprint`): a file
    found under another name with the same fingerprint is the same video and keeps its vectors.
    ``videos.missing`` is when the file was found gone (NULL while it is there): the row, its
    vectors and transcripts stay until the file is found again, located or forgotten.
    """
    _run_script(
        db,
        """
        CREATE TABLE scan_problems (
            root_id INTEGER NOT NULL REFERENCES roots(id) ON DELETE CASCADE,
            path BLOB NOT NULL,   -- os.fsencode(path): the name's bytes as the file system has them
            error TEXT NOT NULL,
            seen REAL NOT NULL,
            PRIMARY KEY (root_id, path)
        ) WITHOUT ROWID;
        ALTER TABLE videos ADD COLUMN fingerprint TEXT;
        ALTER TABLE videos ADD COLUMN missing REAL;
        CREATE INDEX videos_fingerprint ON videos(fingerprint) WHERE fingerprint IS NOT NULL;
        """,
    )

