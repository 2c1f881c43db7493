// Pin the process time zone so that nothing in the suite depends on the machine's zone.
process.env.TZ = 'UTC'
// Output without colour codes, whatever the environment (picocolors colours under CI=true even without a
// terminal), so that text checks read the words themselves; tests that want colour force it.
process.env['NO_COLOR'] = '1'
delete process.env['FORCE_COLOR']
