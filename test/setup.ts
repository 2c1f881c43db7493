// Pin the process time zone so that nothing in the suite depends on the machine's zone.
process.env.TZ = 'UTC'
