import time

from django_tasks import task

from storyapp import claims
from storyapp.workers import activity

from .models import ToyWork


def toy_work_run(*, work_id: int):
    steps = {"n": 0}

    def work(row: ToyWork, token: str) -> dict:
        deadline = time.monotonic() + row.seconds
        while time.monotonic() < deadline:
            time.sleep(0.1)
            steps["n"] += 1
        return {"result": f"slept {row.seconds:g} s"}

    return claims.run_claimed(ToyWork, work_id, work, progress=lambda: {"steps": steps["n"]})


@task(queue_name="default")
def toy_work_task(work_id: int) -> None:
    sweep()
    with activity(f"toy work {work_id}"):
        toy_work_run(work_id=work_id)


def sweep() -> None:
    for work_id in claims.sweep(ToyWork)[0]:
        toy_work_task.enqueue(work_id=work_id)
