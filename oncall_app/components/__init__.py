"""Pure UI building blocks: functions from vars to components, no state of their own."""
