"""mlgate demo model: gradient boosting on scikit-learn's breast-cancer data set (shipped, no download).

Reads params.yaml, writes metrics.json, eval/predictions.csv and logs/history.csv.
"""

import csv
import json
import time
from pathlib import Path

import yaml
from sklearn.datasets import load_breast_cancer
from sklearn.ensemble import GradientBoostingClassifier
from sklearn.metrics import accuracy_score, f1_score, log_loss, roc_auc_score
from sklearn.model_selection import train_test_split

params = yaml.safe_load(Path("params.yaml").read_text())["train"]
X, y = load_breast_cancer(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.3, random_state=0, stratify=y)

model = GradientBoostingClassifier(random_state=0, **params)
started = time.perf_counter()
model.fit(X_train, y_train)
fit_seconds = time.perf_counter() - started

history = Path("logs/history.csv")
history.parent.mkdir(exist_ok=True)
with history.open("w", newline="") as f:
    writer = csv.writer(f)
    writer.writerow(["stage", "loss", "val_loss"])
    stages = zip(model.staged_predict_proba(X_train), model.staged_predict_proba(X_test), strict=True)
    for stage, (p_train, p_test) in enumerate(stages, start=1):
        writer.writerow([stage, log_loss(y_train, p_train), log_loss(y_test, p_test)])
        print(f"stage {stage}: val_loss {log_loss(y_test, p_test):.4f}")

proba = model.predict_proba(X_test)[:, 1]
pred = (proba >= 0.5).astype(int)
Path("eval").mkdir(exist_ok=True)
with Path("eval/predictions.csv").open("w", newline="") as f:
    writer = csv.writer(f)
    writer.writerow(["id", "label", "pred", "proba"])
    writer.writerows(zip(range(len(y_test)), y_test, pred, proba.round(6), strict=True))

metrics = {
    "eval": {
        "accuracy": accuracy_score(y_test, pred),
        "f1": f1_score(y_test, pred),
        "roc_auc": roc_auc_score(y_test, proba),
        "log_loss": log_loss(y_test, proba),
    },
    "train": {"fit_seconds": round(fit_seconds, 3), "stages": len(model.estimators_)},
}
Path("metrics.json").write_text(json.dumps(metrics, indent=2) + "\n")
print(json.dumps(metrics["eval"]))
