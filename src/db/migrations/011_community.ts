import type { Migration } from '../migrate.js';

/**
 * Accounts and what people do: users, their sessions, one-time email tokens
 * and personal API tokens; the mail outbox; upvotes; comments with their
 * edit history; notifications.
 *
 * Secrets (session, email and API tokens) are stored as SHA-256 hashes only:
 * they are random and long, so a hash cannot be reversed, and a leaked
 * database holds nothing that signs anyone in. Times that code compares
 * (expiry, idle timeout) are epoch milliseconds; times shown to people are ISO
 * text, as on papers.
 */
export const community: Migration = {
  version: 11,
  name: 'community',
  sqlite: `
      CREATE TABLE users (
        id INTEGER PRIMARY KEY,
        username TEXT NOT NULL,
        -- Lower-cased: "Ada" and "ada" are one name, and one address is one account.
        username_key TEXT NOT NULL UNIQUE,
        email TEXT NOT NULL,
        email_key TEXT NOT NULL UNIQUE,
        -- NULL: the account signs in by emailed link only.
        password_hash TEXT,
        role TEXT NOT NULL DEFAULT 'user' CHECK (role IN ('user', 'curator', 'moderator', 'admin')),
        email_verified_at TEXT,
        created_at TEXT NOT NULL
      );

      CREATE TABLE sessions (
        id INTEGER PRIMARY KEY,
        user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
        token_hash TEXT NOT NULL UNIQUE,
        created_at INTEGER NOT NULL,
        last_seen_at INTEGER NOT NULL,
        -- The absolute timeout; the idle timeout counts from last_seen_at.
        expires_at INTEGER NOT NULL,
        user_agent TEXT,
        ip TEXT
      );
      CREATE INDEX sessions_user ON sessions (user_id);

      -- Single-use links sent by email: address verification, sign-in, password
      -- reset, and an email change (data: the new address).
      CREATE TABLE email_tokens (
        token_hash TEXT PRIMARY KEY,
        user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
        purpose TEXT NOT NULL CHECK (purpose IN ('verify', 'login', 'reset', 'email')),
        data TEXT,
        created_at INTEGER NOT NULL,
        expires_at INTEGER NOT NULL,
        used_at INTEGER
      );
      CREATE INDEX email_tokens_user ON email_tokens (user_id);

      CREATE TABLE api_tokens (
        id INTEGER PRIMARY KEY,
        user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
        name TEXT NOT NULL,
        token_hash TEXT NOT NULL UNIQUE,
        scope TEXT NOT NULL CHECK (scope IN ('read', 'write')),
        created_at TEXT NOT NULL,
        last_used_at TEXT
      );
      CREATE INDEX api_tokens_user ON api_tokens (user_id);

      -- Every message the instance sends, and what became of it: the admin's
      -- outbox without SMTP, the delivery log with it.
      CREATE TABLE outbox (
        id INTEGER PRIMARY KEY,
        recipient TEXT NOT NULL,
        subject TEXT NOT NULL,
        text_body TEXT NOT NULL,
        html_body TEXT,
        -- What the message is for ('verify', 'login', 'mention', ...).
        kind TEXT NOT NULL,
        created_at TEXT NOT NULL,
        sent_at TEXT,
        error TEXT
      );
      CREATE INDEX outbox_recent ON outbox (created_at);

      CREATE TABLE upvotes (
        user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
        paper_id INTEGER NOT NULL REFERENCES papers (id) ON DELETE CASCADE,
        created_at TEXT NOT NULL,
        PRIMARY KEY (user_id, paper_id)
      );
      CREATE INDEX upvotes_paper ON upvotes (paper_id, created_at);

      -- A deleted comment keeps its row (deleted_at, body emptied) so that its
      -- replies keep their place; a deleted account's comments lose their author.
      CREATE TABLE comments (
        id INTEGER PRIMARY KEY,
        paper_id INTEGER NOT NULL REFERENCES papers (id) ON DELETE CASCADE,
        user_id INTEGER REFERENCES users (id) ON DELETE SET NULL,
        parent_id INTEGER REFERENCES comments (id),
        body TEXT NOT NULL,
        created_at TEXT NOT NULL,
        edited_at TEXT,
        deleted_at TEXT
      );
      CREATE INDEX comments_paper ON comments (paper_id, created_at);
      CREATE INDEX comments_user ON comments (user_id);

      -- Earlier bodies of an edited comment, oldest first.
      CREATE TABLE comment_revisions (
        id INTEGER PRIMARY KEY,
        comment_id INTEGER NOT NULL REFERENCES comments (id) ON DELETE CASCADE,
        body TEXT NOT NULL,
        created_at TEXT NOT NULL
      );
      CREATE INDEX comment_revisions_comment ON comment_revisions (comment_id);

      CREATE TABLE notifications (
        id INTEGER PRIMARY KEY,
        user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
        kind TEXT NOT NULL CHECK (kind IN ('mention', 'reply')),
        comment_id INTEGER NOT NULL REFERENCES comments (id) ON DELETE CASCADE,
        created_at TEXT NOT NULL,
        read_at TEXT
      );
      CREATE INDEX notifications_user ON notifications (user_id, created_at);
    `,
  postgres: `
      CREATE TABLE users (
        id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
        username TEXT NOT NULL,
        username_key TEXT NOT NULL UNIQUE,
        email TEXT NOT NULL,
        email_key TEXT NOT NULL UNIQUE,
        password_hash TEXT,
        role TEXT NOT NULL DEFAULT 'user' CHECK (role IN ('user', 'curator', 'moderator', 'admin')),
        email_verified_at TEXT,
        created_at TEXT NOT NULL
      );

      CREATE TABLE sessions (
        id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
        user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
        token_hash TEXT NOT NULL UNIQUE,
        created_at BIGINT NOT NULL,
        last_seen_at BIGINT NOT NULL,
        expires_at BIGINT NOT NULL,
        user_agent TEXT,
        ip TEXT
      );
      CREATE INDEX sessions_user ON sessions (user_id);

      CREATE TABLE email_tokens (
        token_hash TEXT PRIMARY KEY,
        user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
        purpose TEXT NOT NULL CHECK (purpose IN ('verify', 'login', 'reset', 'email')),
        data TEXT,
        created_at BIGINT NOT NULL,
        expires_at BIGINT NOT NULL,
        used_at BIGINT
      );
      CREATE INDEX email_tokens_user ON email_tokens (user_id);

      CREATE TABLE api_tokens (
        id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
        user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
        name TEXT NOT NULL,
        token_hash TEXT NOT NULL UNIQUE,
        scope TEXT NOT NULL CHECK (scope IN ('read', 'write')),
        created_at TEXT NOT NULL,
        last_used_at TEXT
      );
      CREATE INDEX api_tokens_user ON api_tokens (user_id);

      CREATE TABLE outbox (
        id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
        recipient TEXT NOT NULL,
        subject TEXT NOT NULL,
        text_body TEXT NOT NULL,
        html_body TEXT,
        kind TEXT NOT NULL,
        created_at TEXT NOT NULL,
        sent_at TEXT,
        error TEXT
      );
      CREATE INDEX outbox_recent ON outbox (created_at);

      CREATE TABLE upvotes (
        user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
        paper_id BIGINT NOT NULL REFERENCES papers (id) ON DELETE CASCADE,
        created_at TEXT NOT NULL,
        PRIMARY KEY (user_id, paper_id)
      );
      CREATE INDEX upvotes_paper ON upvotes (paper_id, created_at);

      CREATE TABLE comments (
        id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
        paper_id BIGINT NOT NULL REFERENCES papers (id) ON DELETE CASCADE,
        user_id BIGINT REFERENCES users (id) ON DELETE SET NULL,
        parent_id BIGINT REFERENCES comments (id),
        body TEXT NOT NULL,
        created_at TEXT NOT NULL,
        edited_at TEXT,
        deleted_at TEXT
      );
      CREATE INDEX comments_paper ON comments (paper_id, created_at);
      CREATE INDEX comments_user ON comments (user_id);

      CREATE TABLE comment_revisions (
        id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
        comment_id BIGINT NOT NULL REFERENCES comments (id) ON DELETE CASCADE,
        body TEXT NOT NULL,
        created_at TEXT NOT NULL
      );
      CREATE INDEX comment_revisions_comment ON comment_revisions (comment_id);

      CREATE TABLE notifications (
        id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
        user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
        kind TEXT NOT NULL CHECK (kind IN ('mention', 'reply')),
        comment_id BIGINT NOT NULL REFERENCES comments (id) ON DELETE CASCADE,
        created_at TEXT NOT NULL,
        read_at TEXT
      );
      CREATE INDEX notifications_user ON notifications (user_id, created_at);
    `,
};
