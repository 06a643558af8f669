/// The first schema: every table of the plan. The DDL is the common subset of SQLite and
/// PostgreSQL (BIGINT, TEXT, BOOLEAN, DOUBLE PRECISION, CHECK, partial indexes), so one text
/// serves both engines.
///
/// - Money is BIGINT milli-credits (`*_milli`), never floating point.
/// - Times are BIGINT microseconds since the epoch.
/// - JSON documents (config, inputs, outputs) are TEXT written by our own JSON writer.
/// - Tags live twice: as a JSON list on the agent (what the API returns) and as rows of
///   `agent_tags` (what the "all tags must match" filter queries through an index).
enum SchemaV1 {
    static let migration = Migration(version: 1, name: "initial schema", statements: [
        """
        CREATE TABLE users (
            id TEXT PRIMARY KEY,
            email TEXT NOT NULL,
            username TEXT NOT NULL,
            username_key TEXT NOT NULL,
            full_name TEXT NOT NULL,
            password_hash TEXT NOT NULL,
            avatar_url TEXT,
            bio TEXT,
            role TEXT NOT NULL DEFAULT 'user' CHECK (role IN ('user', 'creator', 'admin')),
            credits_milli BIGINT NOT NULL DEFAULT 0 CHECK (credits_milli >= 0),
            is_active BOOLEAN NOT NULL DEFAULT TRUE,
            is_verified BOOLEAN NOT NULL DEFAULT FALSE,
            created_at BIGINT NOT NULL,
            updated_at BIGINT NOT NULL)
        """,
        "CREATE UNIQUE INDEX users_email_unique ON users (email)",
        // Usernames are unique regardless of case: `Alice` and `alice` are one name.
        "CREATE UNIQUE INDEX users_username_unique ON users (username_key)",
        """
        CREATE TABLE agents (
            id TEXT PRIMARY KEY,
            name TEXT NOT NULL,
            description TEXT NOT NULL,
            long_description TEXT,
            category TEXT NOT NULL CHECK (category IN ('content', 'research', 'analysis', 'automation',
                'development', 'design', 'marketing', 'customer_service')),
            tags TEXT NOT NULL,
            creator_id TEXT NOT NULL REFERENCES users (id),
            version TEXT NOT NULL DEFAULT '1.0.0',
            price_milli BIGINT NOT NULL CHECK (price_milli BETWEEN 1000 AND 10000000),
            rating DOUBLE PRECISION NOT NULL DEFAULT 0 CHECK (rating >= 0 AND rating <= 5),
            total_runs BIGINT NOT NULL DEFAULT 0 CHECK (total_runs >= 0),
            total_reviews BIGINT NOT NULL DEFAULT 0 CHECK (total_reviews >= 0),
            status TEXT NOT NULL DEFAULT 'pending_review' CHECK (status IN ('active', 'inactive', 'pending_review', 'rejected')),
            config TEXT NOT NULL,
            capabilities TEXT NOT NULL,
            limitations TEXT,
            thumbnail_url TEXT,
            demo_available BOOLEAN NOT NULL DEFAULT FALSE,
            search_text TEXT NOT NULL,
            bundle_hash TEXT,
            created_at BIGINT NOT NULL,
            updated_at BIGINT NOT NULL)
        """,
        // One index per list order of the public listing, each led by status (only active
        // agents are listed) and category (the most common filter rides the same index).
        "CREATE INDEX agents_status_created ON agents (status, created_at)",
        "CREATE INDEX agents_status_category_created ON agents (status, category, created_at)",
        "CREATE INDEX agents_status_category_rating ON agents (status, category, rating)",
        "CREATE INDEX agents_status_rating ON agents (status, rating)",
        "CREATE INDEX agents_status_runs ON agents (status, total_runs)",
        "CREATE INDEX agents_status_price ON agents (status, price_milli)",
        "CREATE INDEX agents_creator ON agents (creator_id, created_at)",
        """
        CREATE TABLE agent_tags (
            agent_id TEXT NOT NULL REFERENCES agents (id) ON DELETE CASCADE,
            tag TEXT NOT NULL,
            PRIMARY KEY (agent_id, tag))
        """,
        "CREATE INDEX agent_tags_tag ON agent_tags (tag, agent_id)",
        """
        CREATE TABLE executions (
            id TEXT PRIMARY KEY,
            agent_id TEXT NOT NULL REFERENCES agents (id),
            user_id TEXT NOT NULL REFERENCES users (id),
            status TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'running', 'completed', 'failed', 'cancelled')),
            inputs TEXT NOT NULL,
            outputs TEXT,
            error_message TEXT,
            credits_used_milli BIGINT NOT NULL CHECK (credits_used_milli >= 0),
            outcome TEXT CHECK (outcome IS NULL OR outcome IN ('completed', 'failed', 'timeout', 'oom',
                'seccomp_violation', 'output_limit', 'cancelled', 'runner_lost')),
            wall_ms BIGINT,
            cpu_ms BIGINT,
            peak_memory_bytes BIGINT,
            bundle_hash TEXT,
            idempotency_key TEXT,
            request_hash TEXT,
            runner TEXT,
            created_at BIGINT NOT NULL,
            started_at BIGINT,
            completed_at BIGINT,
            duration_ms BIGINT)
        """,
        "CREATE INDEX executions_user_created ON executions (user_id, created_at)",
        "CREATE INDEX executions_user_status_created ON executions (user_id, status, created_at)",
        "CREATE INDEX executions_user_agent_created ON executions (user_id, agent_id, created_at)",
        "CREATE INDEX executions_agent ON executions (agent_id, status)",
        "CREATE INDEX executions_pending ON executions (status, created_at)",
        "CREATE UNIQUE INDEX executions_idempotency_unique ON executions (user_id, idempotency_key) WHERE idempotency_key IS NOT NULL",
        """
        CREATE TABLE reviews (
            id TEXT PRIMARY KEY,
            agent_id TEXT NOT NULL REFERENCES agents (id),
            user_id TEXT NOT NULL REFERENCES users (id),
            rating BIGINT NOT NULL CHECK (rating BETWEEN 1 AND 5),
            title TEXT NOT NULL,
            comment TEXT NOT NULL,
            helpful_count BIGINT NOT NULL DEFAULT 0,
            created_at BIGINT NOT NULL,
            updated_at BIGINT NOT NULL)
        """,
        "CREATE UNIQUE INDEX reviews_one_per_user ON reviews (agent_id, user_id)",
        "CREATE INDEX reviews_agent_created ON reviews (agent_id, created_at)",
        """
        CREATE TABLE credit_transactions (
            id TEXT PRIMARY KEY,
            user_id TEXT NOT NULL REFERENCES users (id),
            amount_milli BIGINT NOT NULL,
            type TEXT NOT NULL CHECK (type IN ('purchase', 'usage', 'refund', 'earning', 'payout')),
            description TEXT NOT NULL,
            reference_id TEXT,
            created_at BIGINT NOT NULL)
        """,
        "CREATE INDEX credit_transactions_user_created ON credit_transactions (user_id, created_at)",
        "CREATE INDEX credit_transactions_user_type ON credit_transactions (user_id, type)",
        // A reference (a Stripe event, an execution) moves a user's credits at most once per kind.
        """
        CREATE UNIQUE INDEX credit_transactions_reference_unique
            ON credit_transactions (user_id, type, reference_id) WHERE reference_id IS NOT NULL
        """,
        """
        CREATE TABLE credit_packages (
            id TEXT PRIMARY KEY,
            name TEXT NOT NULL,
            credits BIGINT NOT NULL CHECK (credits > 0),
            bonus_credits BIGINT NOT NULL DEFAULT 0 CHECK (bonus_credits >= 0),
            price_cents BIGINT NOT NULL CHECK (price_cents > 0),
            popular BOOLEAN NOT NULL DEFAULT FALSE,
            stripe_price_id TEXT)
        """,
        """
        INSERT INTO credit_packages (id, name, credits, bonus_credits, price_cents, popular) VALUES
            ('starter', 'Starter Pack', 100, 0, 1000, FALSE),
            ('popular', 'Popular Pack', 500, 50, 4500, TRUE),
            ('pro', 'Pro Pack', 1000, 150, 8000, FALSE),
            ('enterprise', 'Enterprise Pack', 5000, 1000, 35000, FALSE)
        """,
        // Refresh tokens are stored as SHA-256 of the opaque token; a family is one login's chain
        // of rotations, revoked whole when a spent member is presented again.
        """
        CREATE TABLE refresh_tokens (
            id TEXT PRIMARY KEY,
            user_id TEXT NOT NULL REFERENCES users (id),
            family_id TEXT NOT NULL,
            token_hash TEXT NOT NULL,
            created_at BIGINT NOT NULL,
            expires_at BIGINT NOT NULL,
            used_at BIGINT,
            revoked_at BIGINT)
        """,
        "CREATE UNIQUE INDEX refresh_tokens_hash_unique ON refresh_tokens (token_hash)",
        "CREATE INDEX refresh_tokens_user ON refresh_tokens (user_id)",
        "CREATE INDEX refresh_tokens_family ON refresh_tokens (family_id)",
    ])
}
