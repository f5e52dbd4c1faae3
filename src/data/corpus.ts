// The built-in training text of the character task: the project's own prose about recurrent
// networks and about unrolled itself (about 32 KB, plain ASCII, so the vocabulary stays small).
// Written for unrolled; not copied from anywhere.

export const CORPUS: string = `# Recurrent networks, and how to train them

This text is the built-in training material of unrolled. It explains, in plain words, what a
recurrent neural network is, how it learns with backpropagation through time, why that learning
is hard, and what the usual remedies are. It ends with a tour of how unrolled itself is put
together. A small character model trained on these pages will learn to write something that
looks a little like them, which is a fair way to watch a recurrent network at work.

## A network with a memory

Most neural networks take one input and give one output. A picture goes in, a label comes out,
and the network has no idea what it saw a moment before. Many problems do not look like that. A
sentence is a sequence of words, a word is a sequence of letters, a sound is a sequence of
samples, and the meaning of each piece depends on the pieces before it. To read the letter after
"q" you want to remember that you just saw a "q".

A recurrent network handles a sequence one step at a time and carries a memory from each step to
the next. That memory is a vector of numbers called the hidden state. At every step the network
looks at two things: the new input, and the hidden state it left behind at the previous step.
From the two it computes a new hidden state, and from the new hidden state it can make a
prediction. Then it moves on to the next step and does the same again, with the same weights.

The simplest recurrent cell, often called an Elman network or a vanilla RNN, does this with one
line of arithmetic. It multiplies the input by one weight matrix, multiplies the old hidden
state by another weight matrix, adds the two together with a bias, and passes the sum through a
squashing function such as the hyperbolic tangent. The result is the new hidden state. If the
input has I numbers and the hidden state has H numbers, the input weights form an H by I matrix
and the recurrent weights form an H by H matrix. Those two matrices, and the biases, are all the
cell has to learn.

The important word is same. The cell uses the same weights at the first step, at the tenth step
and at the thousandth step. A recurrent network is therefore not a deep stack of different
layers but one small layer applied again and again. This is what lets it read sequences of any
length with a fixed number of parameters, and it is also the source of most of its difficulties,
as we will see.

On top of the hidden state sits a head: usually a single linear layer that turns the hidden
state into the numbers we want. For a character model the head produces one score for every
character in the vocabulary, and a softmax turns those scores into probabilities for the next
character. For a regression task the head produces one or a few real numbers. The head may be
applied at every step, when we want a prediction for each position in the sequence, or only at
the last step, when one answer for the whole sequence is enough.

## Unrolling in time

A recurrent network is easiest to understand when it is drawn unrolled. Take a sequence of T
steps. Draw one copy of the cell for each step, side by side, and connect the hidden state
output of each copy to the hidden state input of the next. Feed the input of step one into the
first copy, the input of step two into the second copy, and so on. The picture now looks like an
ordinary feed-forward network that happens to be T layers deep, with the special rule that all
the layers share their weights.

This picture is not only a teaching aid. It is exactly what a computer does when it runs the
network forward over a sequence. It starts from an initial hidden state, often all zeros, and
computes the states of step one, step two, step three, up to step T, keeping each of them in
memory. The name of this library comes from that picture: training a recurrent network means
unrolling it in time and then working backwards through the unrolled copies.

Several recurrent layers can be stacked. The first layer reads the input sequence and produces a
sequence of hidden states; the second layer reads that sequence of hidden states as its input
and produces its own; and so on. The head then reads the hidden states of the top layer.
Stacking gives the network more room to build features of features, at the price of more
computation per step.

Inputs come in two common forms. Dense inputs are vectors of real numbers, such as the two
values of the adding problem or a measurement from a sensor. Token inputs are whole numbers that
name an item in a vocabulary, such as the index of a character. A token input is the same as a
one-hot vector, a vector of zeros with a single one, but it would be wasteful to multiply a
matrix by a vector that is almost all zeros. Instead the network simply picks the column of the
input weight matrix that belongs to the token. The result is identical, and far cheaper.

## Learning by gradient descent

A network learns by adjusting its weights to make a loss smaller. The loss is a single number
that says how wrong the predictions are. For classification, including predicting the next
character, the usual loss is the cross-entropy: the negative logarithm of the probability the
network gave to the correct answer. If the network was sure and right, the loss is close to
zero. If it gave the correct answer a probability of one in a hundred, the loss is the logarithm
of one hundred, about four point six. For regression the usual loss is the mean squared error:
the average of the squared differences between the predictions and the targets.

To make the loss smaller we need its gradient: for every weight, how much the loss would change
if that weight were nudged up a little. Backpropagation computes all of these numbers at once by
applying the chain rule of calculus from the loss back towards the inputs. Each operation in the
forward pass has a matching operation in the backward pass that takes the gradient with respect
to its output and turns it into gradients with respect to its inputs and its weights.

Once the gradients are known, an optimizer uses them to change the weights. Plain stochastic
gradient descent moves every weight a small step against its gradient, scaled by a learning
rate. Momentum keeps a running average of past steps so that the weights keep moving in
directions that are consistently downhill. Adam keeps two running averages per weight, one of
the gradient and one of its square, and divides the first by the square root of the second, so
that every weight gets a step of a sensible size whatever the scale of its gradient. RMSprop and
Adagrad are older relatives of the same idea. For recurrent networks Adam with a learning rate
of about one or two thousandths is a reliable first choice.

## Backpropagation through time

Backpropagation through time is nothing more than ordinary backpropagation applied to the
unrolled network. Because the unrolled picture is a feed-forward network, the chain rule works
on it as usual. The only new rule concerns the shared weights: since every copy of the cell uses
the same matrices, the gradient of a shared weight is the sum of the gradients that each copy
would have received if it owned its own weights.

The backward pass runs through time in reverse. It starts at the last step, T. There the hidden
state receives a gradient from the head, if the loss looks at step T. That gradient flows into
the cell, through the squashing function, and is split into three parts: a part for the input
weights, a part for the recurrent weights and the bias, and a part that flows back into the
hidden state of step T minus one. Then the algorithm moves to step T minus one. Its hidden state
receives the gradient carried back from step T, plus whatever gradient the head sends to it
directly, and the same process repeats. The walk continues until it reaches the first step, and
the gradient left over at that point is the gradient with respect to the initial hidden state.

While it walks backwards, the algorithm adds up the weight gradients of every step. The gradient
of the recurrent weight matrix is the sum, over all steps, of the outer product of the gradient
arriving at the cell and the hidden state that came into the cell at that step. The gradient of
the input weight matrix is the same sum with the inputs in place of the hidden states. Because
the inputs of every step are known before the backward pass starts, the input side of all steps
can be gathered into one large matrix product instead of T small ones, which is much faster. The
recurrent side cannot be gathered in the same way, because the gradient of each step depends on
the step after it. That chain of dependence is the heart of a recurrent network, forward and
backward.

To run the backward pass, the algorithm needs the values computed in the forward pass: the
hidden state of every step, and for gated cells the value of every gate. That is why training a
recurrent network uses memory in proportion to the length of the sequence. A sequence twice as
long needs twice as many stored states. For long sequences this is the main cost, and it leads
directly to the next idea.

## Truncated backpropagation through time

Suppose you want to train a character model on a whole book. You cannot unroll the network over
a million characters, store a million hidden states, and walk back through all of them for a
single weight update. Even if the memory were there, one update per book would be far too slow.

Truncated backpropagation through time, described by Williams and Peng, solves this by cutting
the long sequence into chunks. The network runs forward over one chunk, say sixty-four
characters, computes the loss, walks back through those sixty-four steps only, and updates the
weights. Then it moves to the next chunk. The trick is that the hidden state is not thrown away
between chunks. The final hidden state of one chunk becomes the initial hidden state of the
next, so the network still reads the book as one continuous text. Only the gradient stops at the
chunk boundary: the network cannot learn, within one update, how something it saw two chunks ago
should have changed its weights.

In the general form there are two numbers. Every k1 steps the algorithm performs an update, and
each update looks back over the last k2 steps, with k2 at least as large as k1. The most common
choice sets both to the chunk length, which gives the stateful chunks just described. If the
chunk is as long as the whole sequence, truncated backpropagation is simply the full algorithm
again, and must give exactly the same numbers.

To keep the state meaningful when several sequences are trained together in a batch, each row of
the batch must follow its own stretch of text. The usual recipe, used by the well known char-rnn
programs, splits the text into as many contiguous rows as there are sequences in the batch. The
first row starts at the beginning of the text, the second row starts one row length further on,
and so on. Chunk number k of a row then continues exactly where chunk number k minus one of the
same row stopped, and the carried hidden state of that row is the right starting point. When the
rows reach their ends, an epoch is over: the rows wrap back to their starts and the carried
state is reset to zero, because the end of one row and the start of the same row are no longer
neighbours in the text.

Truncation has a price. A dependency longer than the chunk can still be used by the network,
because the state carries information forward, but it can only be learned indirectly. In
practice chunks of a few dozen to a few hundred steps are a good compromise between memory,
speed and the reach of the gradient.

## Vanishing and exploding gradients

The gradient that flows back from step t to step t minus one is multiplied by the recurrent
weight matrix and by the slope of the squashing function. Over many steps these multiplications
pile up. If the largest singular value of the recurrent matrix, multiplied by the typical slope,
is smaller than one, the gradient shrinks at every step and after fifty steps there is almost
nothing left. This is the vanishing gradient problem, analysed by Hochreiter in his thesis and
by Bengio, Simard and Frasconi: the network cannot learn that an input far in the past matters,
because the signal telling it so fades before it arrives.

If the product is larger than one, the gradient grows at every step instead, and after fifty
steps it can be astronomically large. This is the exploding gradient problem. A single update
with an exploded gradient can throw the weights so far that the network forgets everything it
has learned, and the loss jumps to a huge value or even to infinity.

The squashing function makes the vanishing side worse. The slope of the hyperbolic tangent is
one at zero but falls quickly as its input grows, and a saturated unit passes almost no gradient
at all. The logistic sigmoid is worse still, with a slope of at most one quarter. A rectified
linear unit has a slope of exactly one wherever it is active, which is why rectified recurrent
networks with carefully chosen weights can carry gradients a long way, and also why they can
explode easily.

There are three broad answers to these problems. The first is to limit the damage of exploding
gradients by clipping them. The second is to change the cell so that information and gradient
have a path along which they are not repeatedly squashed; that is the idea behind the LSTM and
the GRU. The third is to start from weights that neither shrink nor stretch the state, such as
an identity or an orthogonal recurrent matrix.

## Gradient clipping

Clipping is a blunt but effective tool. After the backward pass, compute the global norm of the
gradient: the square root of the sum of the squares of every gradient value of every parameter.
If that norm is larger than a chosen maximum, scale all the gradients down by the same factor so
that the norm equals the maximum. The direction of the step is unchanged; only its length is
limited. This is what PyTorch calls clipping by norm, and a maximum of one to five is common for
recurrent networks. Pascanu, Mikolov and Bengio showed why it works: near a cliff in the loss
surface, the gradient points in a sensible direction but is much too long, and cutting its
length keeps the update from jumping off the cliff.

A different form clips each gradient value separately to a range such as minus one to one. It is
simpler, but it changes the direction of the step, and it is less often used.

Clipping does not help against vanishing gradients. A tiny gradient stays tiny. It also cannot
rescue a step whose gradient is not a number at all. A good trainer checks the norm before using
it: if the loss or the norm is infinite or undefined, the step is refused and the weights and
the optimizer state are left exactly as they were, so that one bad batch cannot poison the whole
run.

It is worth logging the gradient norm during training. A norm that grows steadily, or that is
clipped at almost every step, says that the learning rate is too high or the sequences too long
for the cell. A norm that falls towards zero while the loss stays high says that the gradient is
vanishing and the network has stopped learning.

## The LSTM and its gates

The long short-term memory, or LSTM, was introduced by Hochreiter and Schmidhuber to give
gradients a path through time that does not vanish. Alongside the hidden state it keeps a second
vector, the cell state, and it changes the cell state only by addition and by elementwise
multiplication with gates.

At each step the LSTM computes four blocks from the input and the previous hidden state, each
with its own weights. Three of them pass through the logistic sigmoid and become gates with
values between zero and one: the input gate, the forget gate and the output gate. The fourth
passes through the hyperbolic tangent and becomes the candidate, the new content that might be
written. The new cell state is the old cell state multiplied by the forget gate, plus the
candidate multiplied by the input gate. The new hidden state is the hyperbolic tangent of the
new cell state, multiplied by the output gate.

Read the update of the cell state slowly. If the forget gate is close to one and the input gate
close to zero, the cell state passes from one step to the next unchanged, and so does the
gradient that flows back along it. The network can therefore keep a piece of information for
hundreds of steps, and the error signal about that information can travel back just as far. This
path is sometimes called the constant error carousel. The gates themselves are learned: the
network decides, from what it sees, when to write, when to keep and when to forget.

The forget gate was not part of the first LSTM; Gers, Schmidhuber and Cummins added it so that
the cell could clear its memory. A common trick is to start the forget gate bias at a positive
value, such as one, so that at the beginning of training the cell remembers by default and the
gradient flows freely.

In the parameter layout that PyTorch uses, and that unrolled follows, the four blocks are
stacked into one weight matrix with four times as many rows as the hidden size, in the order
input gate, forget gate, candidate, output gate. The input weights and the recurrent weights
each have their own bias, and the two biases are simply added. Keeping the same names and the
same order means that weights can move between unrolled and PyTorch without any translation.

An LSTM costs about four times as much per step as a simple recurrent cell of the same hidden
size, since it computes four blocks instead of one. In exchange it learns long dependencies that
a simple cell usually cannot learn at all.

## The GRU

The gated recurrent unit, proposed by Cho and colleagues, is a lighter relative of the LSTM. It
has no separate cell state, only the hidden state, and it uses two gates instead of three.

The reset gate decides how much of the previous hidden state is used when the candidate is
computed. The update gate decides how much of the new hidden state comes from the candidate and
how much is simply copied from the old hidden state. The candidate is the hyperbolic tangent of
the input part plus the reset gate times the recurrent part. The new hidden state is one minus
the update gate times the candidate, plus the update gate times the old hidden state. When the
update gate is close to one, the state is copied almost unchanged, and so is the gradient, which
gives the GRU the same kind of protected path as the LSTM.

One detail matters when results are compared with PyTorch. In the version PyTorch implements,
the reset gate multiplies the whole recurrent part of the candidate, including its bias, after
the matrix product. Other descriptions apply the reset gate to the hidden state before the
product. The two versions are not the same function, and unrolled follows PyTorch so that the
numbers agree.

A GRU costs about three times as much per step as a simple cell. On many tasks it learns about
as well as an LSTM, and sometimes faster; on others the LSTM has the edge. Trying both is cheap.

## Starting from the right weights

Where the weights start matters more for recurrent networks than for most others, because the
recurrent matrix is applied again and again. If it shrinks the state, the gradients vanish; if
it stretches the state, they explode.

The default in PyTorch draws every weight and every bias from a uniform distribution between
minus and plus one over the square root of the hidden size. It is simple and works reasonably
for gated cells.

Glorot and Bengio, in the scheme usually called Xavier initialisation, chose the spread of the
weights from the number of inputs and outputs of a layer, so that the variance of the signal
stays roughly the same from layer to layer. The uniform form draws from plus or minus the square
root of six over the sum of the two sizes; the normal form uses a standard deviation of the
square root of two over that sum.

An orthogonal recurrent matrix is a rotation: it changes the direction of the hidden state but
never its length. Repeated many times, it neither shrinks nor stretches the state, so at the
start of training the gradient keeps its size across time, at least until the nonlinearity gets
involved. An orthogonal matrix can be made by taking a matrix of random normal numbers and
computing its QR decomposition; the factor Q is orthogonal, and correcting the signs of its
columns with the signs of the diagonal of R makes the result uniformly random among rotations.
For a gated cell the same is done for the block of each gate separately.

Le, Jaitly and Hinton went one step further with the IRNN: a simple recurrent network with
rectified linear units, a recurrent matrix equal to the identity, and zero biases. At the start
such a network copies its hidden state forward exactly, adding the new input at every step, and
the gradient flows back through it without any loss. With that start and gradient clipping, a
plain recurrent network learns problems with long dependencies, such as the adding problem over
hundreds of steps, that a tanh network with a default start cannot learn at all. The identity
can also be scaled down a little, which makes the network forget slowly instead of never.

## Classic tasks for long memory

A few small synthetic problems have become the standard tests of whether a recurrent network can
remember. They are cheap to generate, their answers are known exactly, and they fail in a clear
way.

In the adding problem every step shows the network two numbers: a random value between zero and
one, and a marker that is zero almost everywhere. Exactly two steps are marked, one in the first
half of the sequence and one in the second half. After the last step the network must output the
sum of the two marked values. A network that has not learned to remember can only guess the
average answer, which is one, and its mean squared error is then one sixth, about zero point one
six seven, the variance of a sum of two uniform values. Any error clearly below that means the
network has learned to hold the marked values across the gap. With sequences of a hundred and
fifty steps or more, a tanh network usually stays stuck near the baseline, while an IRNN or an
LSTM goes almost to zero.

In the copy task the network sees a short random sequence of symbols, then a long stretch of
blanks, then a signal to begin, and must then repeat the symbols in order. The loss only counts
the steps where it repeats them. Without memory it can only guess, and its loss stays at the
logarithm of the number of symbols.

In the embedded Reber grammar the network reads strings produced by a small finite automaton and
must predict the next symbol. Most of the grammar is local, but the second symbol of each string
must be repeated near its end, after a long and variable middle part. A network that predicts
the local symbols well but not that one has learned the grammar without the memory.

Noisy sine forecasting is gentler: the network sees a sine wave with noise added, one value at a
time, and must predict the next value. It needs only a short memory, but it shows clearly
whether a network can learn a smooth dynamic system, and its best possible error is the variance
of the noise.

## A model of characters

A character model is the friendliest way to watch a recurrent network learn. Its vocabulary is
the set of distinct characters in the training text, sorted so that the same text always gives
the same numbering. Each character becomes a token. At every step the network reads one
character and predicts the next one, and the loss is the average cross-entropy of those
predictions.

At the very start, with random weights, the network gives every character about the same
probability, and the loss is close to the logarithm of the size of the vocabulary: about four
for a vocabulary of sixty or seventy characters. The first thing it learns is how common each
character is, and the loss drops quickly, because spaces and the letter e are far more frequent
than the letter q. Next it learns which characters tend to follow which: that a space comes
after a full stop, that a vowel tends to follow a consonant, that "th" is often followed by "e".
Later it learns short words, then the spelling of longer ones, then the rhythm of phrases and
the shape of paragraphs. A loss of about one and a half nats per character already produces text
that is mostly made of real words.

To generate text, the model is first primed: it reads a few characters of real text, which warms
up its hidden state. Then it predicts a distribution over the next character, a character is
drawn from that distribution, and the drawn character is fed back in as the next input.
Repeating this produces as much text as you like. A temperature controls how adventurous the
sampling is. The scores of the head are divided by the temperature before the softmax. A
temperature below one sharpens the distribution, so the model sticks to its most likely choices
and the text becomes safe and repetitive; a temperature above one flattens it, so the text
becomes more varied and more often wrong. A temperature of zero always takes the single most
likely character.

A character model trained only on a few dozen kilobytes of text, such as this one, will not
understand anything. It will overfit: it will learn to reproduce phrases it has seen many times,
and its loss on the training text will fall below what it would reach on new text. That is fine
for a demonstration. For a real model, hold some text back, measure the loss on it from time to
time, and stop when it no longer improves.

## How unrolled is built

Unrolled is a TypeScript library with a small numerical core written in AssemblyScript and
compiled to WebAssembly. The same code runs in Node and in a browser. Its rule is that data
flows one way: sequences go in, are written into one block of linear memory called the arena,
are processed by loops inside the WebAssembly module, and come out as losses and gradients,
which an optimizer then turns into new weights.

The WebAssembly core knows nothing about JavaScript objects. It receives only numbers: the sizes
of the problem and the offsets in memory where each matrix and vector lives. It contains the
forward unroll and the backward pass over time for each kind of cell, the loss functions, the
matrix products, and the optimizer updates. The time loop itself runs inside the core, so a
whole forward pass over T steps is a single call from JavaScript, not T calls. Crossing the
boundary between JavaScript and WebAssembly has a cost, and keeping the loops on one side avoids
paying it at every step.

Where the engine supports it, the core uses the 128-bit SIMD instructions of WebAssembly, which
work on four single-precision numbers at once. The matrix products are written as small blocked
kernels that keep partial sums in registers and stream through memory in order. A scalar twin of
the core, without SIMD, is built from the same source for engines that lack it, and the library
picks the right one when it loads.

The arena is laid out before any work starts. From the configuration of the model and the size
of the batch, the library computes how much memory every tensor needs: the parameters, their
gradients, the optimizer moments, the inputs, the stored hidden states and gates of every step,
and the scratch space of the backward pass. It then reserves that memory once. The core never
allocates inside its loops. When a batch of a new shape arrives, the work area is reallocated
only if it has to grow. Because growing the memory of a WebAssembly module replaces its
underlying buffer, every view that JavaScript keeps into that memory is refreshed after a growth
instead of being trusted blindly.

Next to the WebAssembly core sits a reference backend written in plain TypeScript. It implements
the same interface, kernel for kernel, with simple loops that are easy to read and easy to
check. It can also compute in double precision. Its purpose is trust: every result of the fast
core can be compared with the result of the readable one, and both can be compared with PyTorch.
The test suite does exactly that, using fixtures computed by PyTorch in double precision, for
every kind of cell, every loss, with and without masks, and with one or several layers. If the
two disagree, the readable version shows what the right answer is.

Matching PyTorch is a deliberate choice. Unrolled uses the same parameter names, such as
weight_ih_l0 and bias_hh_l0, the same gate order, the same conventions for masks and padding,
the same formula for clipping, and the same update rules for SGD, Adam, AdamW, RMSprop and
Adagrad. A model trained in one can be loaded into the other, and a user who knows one already
knows the meaning of every setting in the other.

Every user mistake becomes a clear error with a stable code. A batch with the wrong length, a
token id outside the vocabulary, a number that is not finite, a configuration that cannot work:
each is caught before anything is written into the arena, and the message names the argument,
what was expected and what was given. A training step whose loss or gradient norm is not finite
is refused, and nothing changes.

## Batches, padding and masks

All tensors in unrolled are time-major: the index of the step comes first, then the index of the
sequence in the batch, then the feature. An input batch of T steps, B sequences and I features
is one flat array in which the value of feature i of sequence b at step t sits at position t
times B times I, plus b times I, plus i. Time-major layout keeps the data of one step together,
which is what the time loop reads.

Real sequences rarely have the same length. To train them together, the shorter ones are padded
at the end up to the length of the longest, and the batch carries the true length of each
sequence. Padded steps add nothing to the loss, and the mean of the loss divides only by the
number of real steps. The hidden state is carried unchanged through padded steps, so that the
final state of each sequence is the state at its last real step. A mask of zeros and ones can be
given instead of lengths, with the same meaning.

Sometimes you want every step to update the state but only some steps to count in the loss, as
in the copy task, where only the recall steps are scored. That is a different thing from
padding, and it needs a different mask, one that weights the loss without freezing the state.

## Practical advice

Start small. A hidden size of a hundred or so, chunks of fifty to a hundred steps, a batch of
thirty-two sequences and Adam with a learning rate of two thousandths will train a character
model on a laptop in a minute and show clear progress. Clip the gradient norm at a few units.
Watch the loss and the gradient norm together.

If the loss does not fall at all, check the data before the model: make sure the targets really
are the inputs shifted by one step, and that the batch layout is time-major. If the loss falls
and then explodes, lower the learning rate or the clipping threshold. If it falls for a while
and then stalls high on a task with long dependencies, try an LSTM or a GRU, an identity or
orthogonal start, or shorter chunks to begin with and longer ones later.

Set a seed. With the same seed, the same configuration and the same backend, unrolled draws the
same initial weights and the same samples, so an experiment can be repeated exactly and a change
can be judged against the same starting point.

Finally, remember what the network is doing. At every step it squeezes everything it has seen
into one vector of a few hundred numbers, and it must learn, from the gradient alone, what to
keep in that vector and what to let go. That it works at all is remarkable. That it works better
with gates, careful starts and clipped steps is the lesson of thirty years of recurrent
networks.
`;
