"""A class session: the instructor hosts, students join with a code and a nickname, predictions are pooled
live, and every laptop's runs become one many-machine experiment.

    protocol.py     what crosses the network, and the checks every request passes
    store.py        SQLite (WAL) on the instructor's machine: the class survives a restart
    server.py       aiohttp: join code, size limit, schema, rate limits; binds only the host it is given
    client.py       a student's side: a local queue resent until the host has every record, once
    questions.py    the lesson questions a class can be asked (the shipped lessons)
    experiment.py   the class's many-machine runs, and the per-machine points the instructor plots
    student.py      StudentSession: the student's screen's state machine
    instructor.py   ClassView and InstructorBoard: what the instructor's screen shows, tick by tick; the exports
    machine.py      {cores, cpu, os} of this machine

This package is the domain: it imports the engine and the lessons, never the app (tui/screens/classroom.py,
tui/screens/student.py and tui/screens/present.py draw it; teach_sgd/commands/classroom.py is its command line).
"""
