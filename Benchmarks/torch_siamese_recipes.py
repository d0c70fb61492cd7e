#!/usr/bin/env python3
"""One-shot on unseen digits in PyTorch: is the AUC ceiling of `convkit train --task siamese` ConvKit's or the task's?

Same protocol as ConvKit's siamese task: train on digits 0–5 of the bundled MNIST-5k (train split), measure on the
test split's digits 6–9 — ROC AUC over all pairs (squared L2 distance of L2-normalized features) and one-shot 4-way
accuracy (2,000 episodes, one enrolled image per class). Each recipe reports the trained embedding ("emb") and the
flattened last feature map ("flat", 128×7×7) as the representation.

Recipes (the same small encoder: three conv-BN-ReLU stages of 32/64/128 channels, 2×2 max-pools, a linear head):
  triplet      batch-hard triplet loss, margin 0.5, P×K = 6×16 batches
  ce           a softmax classifier over the 6 classes (its features as the embedding)
  ssl          NT-Xent on two augmented views of each image plus the supervised contrastive loss (τ 0.2)
  composites   66 classes: the 6 digits and top/bottom and left/right halves of two different digits, SupCon

Run with the anchors venv: ../anchors-venv/bin/python Benchmarks/torch_siamese_recipes.py triplet ce ssl composites
Prints one line per recipe and representation: recipe, representation, auc, oneshot, seconds.
"""
import gzip, os, sys, time
import numpy as np, torch, torch.nn as nn, torch.nn.functional as F

torch.set_num_threads(2)
DATA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Data", "mnist5k")

def idx(name):
    b = gzip.open(os.path.join(DATA, name)).read(); n = int.from_bytes(b[4:8], "big")
    return np.frombuffer(b[16:], np.uint8).reshape(n, 28, 28) if b[3] == 3 else np.frombuffer(b[8:], np.uint8)

xtr, ytr = idx("train-images-idx3-ubyte.gz"), idx("train-labels-idx1-ubyte.gz")
xte, yte = idx("t10k-images-idx3-ubyte.gz"), idx("t10k-labels-idx1-ubyte.gz")
seen = ytr < 6
X = torch.tensor(xtr[seen] / 255.0, dtype=torch.float32)[:, None]; Y = torch.tensor(ytr[seen]).long()
MU, SD = X.mean(), X.std(); X = (X - MU) / SD
held = yte >= 6
XT = (torch.tensor(xte[held] / 255.0, dtype=torch.float32)[:, None] - MU) / SD; YT = yte[held]

def measure(e, labels):
    """ROC AUC over all pairs and one-shot 4-way accuracy over 2,000 episodes."""
    d = torch.cdist(F.normalize(e, dim=1), F.normalize(e, dim=1)).numpy(); n = len(labels); iu = np.triu_indices(n, 1)
    s = -d[iu]; same = (labels[:, None] == labels[None, :])[iu]
    ranks = np.empty(len(s)); ranks[np.argsort(s)] = np.arange(1, len(s) + 1)
    pos, neg = same.sum(), len(s) - same.sum()
    auc = (ranks[same].sum() - pos * (pos + 1) / 2) / (pos * neg)
    rng = np.random.default_rng(1); classes = np.unique(labels); hits = 0
    for _ in range(2000):
        support = [rng.choice(np.where(labels == k)[0]) for k in classes]
        t = rng.integers(len(classes)); q = support[t]
        while q == support[t]: q = rng.choice(np.where(labels == classes[t])[0])
        hits += int(np.argmin([d[q, j] for j in support]) == t)
    return auc, hits / 2000

def block(i, o): return nn.Sequential(nn.Conv2d(i, o, 3, padding=1, bias=False), nn.BatchNorm2d(o), nn.ReLU())

class Encoder(nn.Module):
    def __init__(self, out=64, w=32):
        super().__init__()
        self.features = nn.Sequential(block(1, w), nn.MaxPool2d(2), block(w, 2 * w), nn.MaxPool2d(2), block(2 * w, 4 * w))
        self.head = nn.Linear(4 * w, out)
    def forward(self, x): return self.head(self.features(x).mean((2, 3)))

def augment(x, rot=15, shift=0.12, zoom=0.12, shear=0.2):
    n = len(x); a = torch.empty(n).uniform_(-rot, rot) * np.pi / 180; s = 1 + torch.empty(n).uniform_(-zoom, zoom)
    sh = torch.empty(n).uniform_(-shear, shear); tx, ty = (torch.empty(n).uniform_(-shift, shift) * 2 for _ in range(2))
    c, si = torch.cos(a), torch.sin(a)
    theta = torch.stack([torch.stack([c / s, (-si + sh * c) / s, tx], 1), torch.stack([si / s, (c + sh * si) / s, ty], 1)], 1)
    bg = float(x.min())
    return F.grid_sample(x - bg, F.affine_grid(theta, x.shape, align_corners=False), align_corners=False) + bg

def batch_hard(e, l, m=0.5):
    d = torch.cdist(F.normalize(e, dim=1), F.normalize(e, dim=1)); same = l[:, None] == l[None, :]
    return F.relu((d * same).max(1)[0] - (d + same * 10).min(1)[0] + m).mean()

def supcon(z, l, t=0.2):
    z = F.normalize(z, dim=1); eye = torch.eye(len(z), dtype=torch.bool)
    logp = F.log_softmax((z @ z.t() / t).masked_fill(eye, -1e9), 1); pos = (l[:, None] == l[None, :]) & ~eye
    return -((logp * pos).sum(1) / pos.sum(1)).mean()

def ntxent(z1, z2, t=0.2):
    z = F.normalize(torch.cat([z1, z2]), dim=1); n = len(z1); sim = (z @ z.t() / t).fill_diagonal_(-1e9)
    return F.cross_entropy(sim, torch.cat([torch.arange(n, 2 * n), torch.arange(0, n)]))

def pk_batches(labels, p, k):
    classes = np.unique(labels)
    for _ in range(len(labels) // (p * k)):
        yield torch.tensor(np.concatenate([np.random.choice(np.where(labels == c)[0], k, replace=False)
                                           for c in np.random.choice(classes, p, replace=False)]))

def composites(x, y, per=300):
    """Top/bottom and left/right halves of two different digits as 60 new classes."""
    g = np.random.default_rng(0); xs, ys, k = [x], [y.numpy()], 6
    for a in range(6):
        for b in range(6):
            if a == b: continue
            ia, ib = np.where(y.numpy() == a)[0], np.where(y.numpy() == b)[0]
            A, B = x[g.choice(ia, per)], x[g.choice(ib, per)]
            for axis in (2, 3):
                c = A.clone(); (c[:, :, 14:, :] if axis == 2 else c[:, :, :, 14:]).copy_(B[:, :, 14:, :] if axis == 2 else B[:, :, :, 14:])
                xs.append(c); ys.append(np.full(per, k)); k += 1
    return torch.cat(xs), torch.tensor(np.concatenate(ys))

def train(recipe, epochs=10):
    torch.manual_seed(1); np.random.seed(1)
    x, y = composites(X, Y) if recipe == "composites" else (X, Y)
    net = Encoder(out=6 if recipe == "ce" else 64)
    opt = torch.optim.Adam(net.parameters(), 1e-3); sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, epochs)
    for _ in range(epochs):
        net.train()
        if recipe == "triplet" or recipe == "composites":
            for b in pk_batches(y.numpy(), 6 if recipe == "triplet" else 16, 16 if recipe == "triplet" else 8):
                opt.zero_grad(); e = net(x[b])
                (batch_hard(e, y[b]) if recipe == "triplet" else supcon(e, y[b])).backward(); opt.step()
        else:
            perm = torch.randperm(len(y)); bs = 64 if recipe == "ce" else 256
            for i in range(0, len(y) - bs + 1, bs):
                b = perm[i:i + bs]; opt.zero_grad()
                if recipe == "ce": loss = F.cross_entropy(net(x[b]), y[b])
                else:
                    z1, z2 = net(augment(x[b])), net(augment(x[b]))
                    loss = ntxent(z1, z2) + supcon(torch.cat([z1, z2]), torch.cat([y[b], y[b]]))
                loss.backward(); opt.step()
        sched.step()
    net.eval()
    with torch.no_grad():
        return {"emb": net(XT), "flat": net.features(XT).flatten(1)}

if __name__ == "__main__":
    print("raw pixels auc %.3f oneshot %.3f" % measure(XT.flatten(1), YT), flush=True)
    for recipe in sys.argv[1:] or ["triplet", "ce", "ssl", "composites"]:
        t0 = time.time(); reps = train(recipe)
        for name, e in reps.items():
            print("%s %s auc %.3f oneshot %.3f %.0fs" % ((recipe, name) + measure(e, YT) + (time.time() - t0,)), flush=True)
