"""The pass/fail count every check script keeps: one `check` per expectation, a FAILED line
for each miss, and one summary line (`LABEL: N passed, M failed`) at the end."""


class Tally:
    def __init__(self, label):
        self.label, self.passed, self.failed = label, 0, 0

    def check(self, name, ok, detail=""):
        if ok:
            self.passed += 1
        else:
            self.failed += 1
            print(f"FAILED: {name} {detail}".rstrip())

    def report(self):
        """Prints the summary line and returns the number of failures."""
        print(f"{self.label}: {self.passed} passed, {self.failed} failed")
        return self.failed
