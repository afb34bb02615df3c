-- Core tables. Runs with search_path set to the namespace's schema (see migrate.ts).
-- Time-series tables keep `time` in every unique index so they can become TimescaleDB hypertables.

-- The original contract's columns, unchanged, then what a real session needs.
CREATE TABLE IF NOT EXISTS charging_sessions (
  time          TIMESTAMPTZ      NOT NULL,
  session_id    TEXT             NOT NULL,
  station_id    TEXT             NOT NULL,
  car_id        TEXT             NOT NULL,
  kwh_usage     DOUBLE PRECISION NOT NULL,
  price_rate    DOUBLE PRECISION NOT NULL,
  end_time      TIMESTAMPTZ,
  start_battery DOUBLE PRECISION,
  end_battery   DOUBLE PRECISION,
  cost          DOUBLE PRECISION,
  CONSTRAINT charging_sessions_session_time_key UNIQUE (session_id, time)
);
CREATE INDEX IF NOT EXISTS charging_sessions_station_time_idx ON charging_sessions (station_id, time DESC);
CREATE INDEX IF NOT EXISTS charging_sessions_car_time_idx ON charging_sessions (car_id, time DESC);

CREATE TABLE IF NOT EXISTS telemetry (
  time       TIMESTAMPTZ      NOT NULL,
  event_id   TEXT             NOT NULL,
  car_id     TEXT             NOT NULL,
  lat        DOUBLE PRECISION NOT NULL,
  lon        DOUBLE PRECISION NOT NULL,
  battery    DOUBLE PRECISION NOT NULL,
  velocity   DOUBLE PRECISION NOT NULL,
  price_rate DOUBLE PRECISION,
  CONSTRAINT telemetry_event_time_key UNIQUE (event_id, time)
);
CREATE INDEX IF NOT EXISTS telemetry_car_time_idx ON telemetry (car_id, time DESC);

CREATE TABLE IF NOT EXISTS bookings (
  time       TIMESTAMPTZ NOT NULL,
  event_id   TEXT        NOT NULL,
  booking_id TEXT        NOT NULL,
  car_id     TEXT        NOT NULL,
  station_id TEXT,
  status     TEXT        NOT NULL,
  expires_at TIMESTAMPTZ,
  reason     TEXT,
  CONSTRAINT bookings_event_time_key UNIQUE (event_id, time)
);
CREATE INDEX IF NOT EXISTS bookings_booking_idx ON bookings (booking_id);
CREATE INDEX IF NOT EXISTS bookings_car_time_idx ON bookings (car_id, time DESC);

CREATE TABLE IF NOT EXISTS stations (
  id       TEXT PRIMARY KEY,
  name     TEXT             NOT NULL,
  lat      DOUBLE PRECISION NOT NULL,
  lon      DOUBLE PRECISION NOT NULL,
  ports    INTEGER          NOT NULL,
  power_kw DOUBLE PRECISION NOT NULL
);
